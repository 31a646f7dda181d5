"""nbgrader's side of a kernel started before its turn (:mod:`.graded_kernel`,
:mod:`grading.kernel.prestart`): a Jupyter kernel provisioner that hands nbgrader's connection
to that kernel instead of launching one.

It runs in ``nbgrader autograde``, outside the sandbox: the course's config registers it
(:data:`REGISTER`) and the kernel spec names it with the kernel's FIFO and process
(``kernel_provisioner`` in ``kernel.json``). Everything else is jupyter_client's
:class:`~jupyter_client.provisioning.LocalProvisioner`: the connection file it writes, the
signals it sends to the kernel's process group (interrupt, kill), the liveness it polls. If
the kernel is gone before the hand-over, the spec's own command starts one the usual way.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import select
import signal
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from traitlets import Integer, Unicode

NAME = "gcl4sr-prestarted"
REGISTER = ("from grading.instructor.run.provisioner import register\n"
            "register()  # the kernel provisioner of a kernel started before its turn\n")
"""The config lines that make the provisioner known to nbgrader's kernel manager."""
HANDOFF_WAIT_S = 0.02  # between tries while the kernel still imports


def register() -> None:
    """Make :class:`PrestartedProvisioner` known as :data:`NAME` (jupyter_client finds
    provisioners by entry point; the kit's package installs none for the grader's code)."""
    from importlib.metadata import EntryPoint

    KernelProvisionerFactory.provisioners[NAME] = EntryPoint(
        NAME, f"{__name__}:PrestartedProvisioner", KernelProvisionerFactory.GROUP_NAME)


class Adopted:
    """The kernel's process, as ``subprocess.Popen`` appears to :class:`LocalProvisioner`:
    not a child of nbgrader's, so its end is watched through a pidfd."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None
        self._fd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self.returncode = -signal.SIGKILL  # its status is its parent's, the grader's
            os.close(self._fd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            select.select([self._fd], [], [], timeout)
        return self.poll()

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class PrestartedProvisioner(LocalProvisioner):
    """Hands the connection to the kernel waiting on ``handoff`` (process ``leader``, the
    leader of its process group) instead of launching the kernel spec's command."""

    handoff = Unicode(config=True, help="the FIFO the kernel waits on")
    leader = Integer(config=True, help="the kernel's process, its process group's leader")

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        self._arguments = list(kwargs.get("extra_arguments", []))
        return await super().pre_launch(**kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict:
        try:
            process = Adopted(self.leader)
        except OSError:  # gone and reaped: not ours to adopt
            process = None
        if process is None or not await self._hand_over(process):
            return await super().launch_kernel(cmd, **kwargs)
        self.process, self.pid, self.pgid = process, self.leader, self.leader
        self.cwd = kwargs.get("cwd")
        return self.connection_info

    async def _hand_over(self, process: Adopted) -> bool:
        """Send the connection file's text and nbgrader's kernel arguments; ``False`` if the
        kernel ended first."""
        message = json.dumps({"connection": Path(self.parent.connection_file).read_text(),
                              "argv": self._arguments}).encode()
        while process.poll() is None:
            try:
                fd = os.open(self.handoff, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as error:  # ENXIO: no reader yet, the kernel still imports
                if error.errno != errno.ENXIO:
                    raise
                await asyncio.sleep(HANDOFF_WAIT_S)
                continue
            try:
                os.write(fd, message)
            finally:
                os.close(fd)
            os.unlink(self.handoff)
            return True
        return False
