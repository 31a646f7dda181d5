# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] key="intro"
# # GCL4SR 직접 만들어 보기: 그래프 대조 학습으로 순차 추천 강화하기
#
# **순차 추천**(sequential recommendation)은 한 사용자가 지금까지 고른 아이템들의 *순서*를 보고
# 다음에 고를 아이템을 맞히는 문제입니다. Transformer 같은 시퀀스 모델은 그 사용자 한 명의 기록만
# 봅니다. 그런데 기록이 짧은 사용자(이번 데이터에서는 대부분)에게는 그것만으로 단서가 부족합니다.
#
# **GCL4SR** (Zhang et al., *Enhancing Sequential Recommendation with Graph Contrastive Learning*,
# IJCAI 2022, [논문](https://www.ijcai.org/proceedings/2022/0333.pdf))은 *모든* 사용자의 아이템 전이를
# 하나의 그래프로 모아, 각 아이템이 전체적으로 어떤 아이템들과 함께 소비되는지(전역 문맥)를 가져옵니다.
# 이 노트북에서는 그 핵심 부품 세 가지를 직접 구현하고, 미리 준비된 엔진 `gcl4sr_helpers`
# (모델, 샘플러, 학습 루프)에 끼워 넣어 실제로 한 epoch 학습과 평가를 해 봅니다. 원하면 GCL4SR의
# "GCL"(그래프 대조 학습)을 이루는 대조 손실까지 직접 만들어 볼 수 있습니다 (선택 과제).
#
# | 단계 | 구현할 것 | 배점 (공개 + 숨은 테스트) |
# |---|---|---|
# | TODO 1 | 가중치 아이템 전이 그래프(WITG): `build_weighted_item_transition_graph` | 2 + 4 = 6 |
# | TODO 2 | 평가 지표: `recall_at_k`, `ndcg_at_k` | (1 + 2) + (2 + 3) = 8 |
# | TODO 3 | 분포 정렬 손실: `MMD_loss` | 2 + 4 = 6 |
# | (선택) TODO 4 | 대조 손실 NT-Xent: `nt_xent` | 채점하지 않음 |
# | | **합계** | **20** |
#
# **진행 방법**
#
# - `# 여기에 코드를 작성하세요 (YOUR CODE HERE)`가 있는 셀만 채우면 됩니다. 그 아래의
#   `raise NotImplementedError()`는 지우세요. 함수 이름과 인자(시그니처)는 바꾸지 마세요.
# - TODO마다 **점검 셀**이 있습니다. 항목마다 ✅/❌를 출력하고, 틀렸을 때는 💡 힌트로 흔한 실수를 짚어 줍니다.
#   점검 셀 자체는 점수를 매기지 않으니 마음껏 실행하세요.
# - 그 뒤의 **테스트 셀**이 채점에 쓰입니다 (수정하지 마세요). 공개 테스트는 지금 바로 돌려 볼 수 있고,
#   숨은 테스트는 채점할 때만 다른 입력으로 실행됩니다. MMD의 공개 테스트는 점검(`check_mmd`)을 한 번 더
#   부르므로, 그 점검을 통과해야 공개 테스트의 점수도 받습니다.
# - TODO의 docstring에 적힌 **규칙**이 숨은 테스트가 검사하는 전부입니다. 예제를 통과해도 규칙을 하나씩
#   다시 읽어 보세요.
# - 5절의 TODO 4는 채점하지 않는 **선택 과제**입니다. 테스트 셀이 없고 점검 셀만 있습니다. 비워 두어도
#   노트북은 끝까지 돌고 점수도 그대로입니다.
# - 위에서부터 차례로 실행하세요. 마지막에는 *Kernel → Restart Kernel and Run All Cells*로 처음부터
#   끝까지 오류 없이 도는지 확인하세요.

# %% [markdown] key="setup_intro"
# ## 0. 준비: 데이터 위치, 실행 모드, 장치, 시드
#
# **데이터 위치는 한 번만 정하면 됩니다.** 엔진은 다음 순서로 데이터 폴더(`home.txt`처럼
# `사용자 아이템1,아이템2,...` 파일이 든 폴더)를 찾습니다. 강사가 다른 데이터셋을 정했다면 그 폴더를
# 쓰세요. 데이터셋 이름과 점검 기준값이 있는지는 1절의 출력에 나옵니다.
#
# 1. 바로 아래 셀의 `DATA_DIR` (예: `DATA_DIR = "/home/me/datasets/home"`)
# 2. Jupyter를 띄우기 전에 설정한 환경 변수 `GCL4SR_DATA`
# 3. 둘 다 없으면 노트북이 있는 폴더의 `data/home/`에 공식 저장소의 파일을 내려받고 SHA-256 체크섬을
#    확인합니다 (약 6 MB, 한 번만).
#
# **엔진 설치.** 준비 셀은 엔진 `gcl4sr_helpers`가 설치되어 있는지 먼저 봅니다. 설치되어 있으면 아무것도
# 하지 않고, 없으면(Colab 등) 이 노트북 옆의 `gcl4sr_course_kit-*.whl` 파일이나 강사가 정해 둔
# `ENGINE_URL`에서 설치합니다. 출력의 키트 버전이 강사가 안내한 버전과 같은지 확인하세요.
#
# **실행 모드.** 기본은 `full` 모드로, Home 데이터 전체로 한 epoch을 끝까지 학습합니다 (2코어 CPU에서 학습 약 4분,
# 평가 약 10초; GPU라면 1분 안팎입니다). 환경 변수 `GCL4SR_QUICK=1`을 주면 `quick` 모드로
# 사용자 2,000명 부분집합과 학습 배치 3개만 돌려 1분 안에 끝납니다. 채점(nbgrader)은 언제나 quick 모드로,
# 샘플 256개짜리 학습 배치 1개만 실행합니다. 점수는 여러분의 함수를 채점기가 따로 검사해서 매기므로 학습량과는 무관하고,
# 제출물이 full 모드에서 오래 걸려도 채점 시간에는 영향이 없습니다.

# %%
# 데이터 폴더: None이면 환경 변수 GCL4SR_DATA, 그것도 없으면 data/home/에 자동으로 내려받습니다.
DATA_DIR = None
# 장치를 강제하려면 "cpu", "cuda", "mps" 중 하나를 적으세요 (None이면 자동 선택).
DEVICE_NAME = None
# 엔진이 없을 때 설치할 주소: None이면 이 노트북 옆의 .whl 파일 (강사가 배포판을 만들 때 정합니다).
ENGINE_URL = None

# %% nbgrader="locked" grade_id="setup"
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

if importlib.util.find_spec("gcl4sr_helpers") is None:  # 엔진이 없을 때만 (Colab 등) 설치합니다
    _wheels = sorted(Path.cwd().glob("gcl4sr_course_kit-*.whl"))
    _engine = ENGINE_URL or (str(_wheels[-1]) if _wheels else None)
    if _engine is None:
        raise ModuleNotFoundError(
            "엔진 gcl4sr_helpers가 없습니다. 배포판의 gcl4sr_course_kit-*.whl 파일을 이 노트북과 "
            f"같은 폴더({Path.cwd()})에 올리거나, README의 설치 방법을 따른 뒤 다시 실행하세요.")
    print(f"엔진 설치 중: {_engine}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", _engine], check=True)
    importlib.invalidate_caches()

import gcl4sr_helpers
import gcl4sr_helpers.i18n

gcl4sr_helpers.i18n.set_language("ko")  # 이 노트북의 언어: 점검 메시지가 따릅니다

import torch
from torch import Tensor
from torch_geometric.data import Data

from gcl4sr_helpers import baselines, plots
from gcl4sr_helpers.checks import (check_eval, check_losses, check_metrics, check_mmd,
                                   check_nt_xent, check_popularity, check_witg, course_mode,
                                   graph_as_dict, mmd_example, write_witg_example)
from gcl4sr_helpers.data import load_data, read_item_sequences
from gcl4sr_helpers.download import default_data_dir
from gcl4sr_helpers.experiment import CourseConfig, start_course
from gcl4sr_helpers.graph import convert_to_pyg_data
from gcl4sr_helpers.losses import gaussian_kernel
from gcl4sr_helpers.runtime import seed_everything, select_device
from gcl4sr_helpers.trainer import score_ranking

MODE = course_mode()
if MODE.grading:
    # 채점 중에는 경고가 stderr로 나가면 그 테스트 셀이 0점이 되므로 모두 끕니다.
    warnings.simplefilter("ignore")
    DATA_DIR, DEVICE_NAME = None, None
else:
    warnings.filterwarnings("ignore", category=FutureWarning)

if MODE.threads:
    torch.set_num_threads(MODE.threads)

CONFIG = CourseConfig()  # 원본 과제의 하이퍼파라미터 (batch 2048, seed 2026): 바꾸지 마세요
DEVICE = select_device(DEVICE_NAME)
seed_everything(CONFIG.seed)

print(f"키트 버전 : {gcl4sr_helpers.__version__}")
print(f"실행 모드 : {MODE.describe()}")
print(f"장치      : {DEVICE} (torch {torch.__version__})")
print(f"시드      : {CONFIG.seed}")
print(f"데이터    : {DATA_DIR or os.environ.get('GCL4SR_DATA') or f'{default_data_dir()} (없으면 내려받습니다)'}")

# %% [markdown] key="data_intro"
# ## 1. 데이터 살펴보기: Amazon Home and Kitchen
#
# 아마존 리뷰 데이터 중 *Home and Kitchen* 분야(5-core: 모든 사용자와 아이템이 5번 이상 등장)를
# 씁니다. `home.txt`는 한 줄에 한 사용자이고, `사용자ID 아이템1,아이템2,...`처럼 시간 순서로 적혀
# 있습니다. 아이템 ID는 1부터 시작합니다. 0은 비워 두었다가 짧은 시퀀스의 앞을 채우는 **패딩**에 씁니다.
#
# 한 사용자의 시퀀스 $s = (v_1, \dots, v_n)$은 다음처럼 나뉩니다 (원 논문의 공식 분할과 같습니다).
#
# - **테스트**: 마지막 아이템 $v_n$을 맞힙니다 (입력은 그 앞의 최대 50개).
# - **검증**: 끝에서 두 번째 $v_{n-1}$을 맞힙니다.
# - **학습**: 나머지 $s' = (v_1, \dots, v_{n-2})$의 모든 접두사 $(v_1..v_k) \to v_{k+1}$.
#
# `all_train_seq.txt`는 각 시퀀스에서 마지막 두 아이템을 뺀 $s'$입니다. 그래프(TODO 1)는 이 파일로만
# 만들기 때문에 검증·테스트 정답이 그래프를 통해 새어 들어가지 않습니다.

# %%
start = time.perf_counter()
data = load_data(DATA_DIR, max_users=MODE.max_users, seed=MODE.subset_seed)
print(f"불러오기: {time.perf_counter() - start:.1f}초, 학습 시퀀스 파일: {data.train_sequence_file.name}")
print(f"데이터셋: {data.dataset.describe()}")
if data.user_id_note():
    print(data.user_id_note())
for key, value in data.summary().items():
    print(f"  {key:>13}: {value:,.2f}" if isinstance(value, float) else f"  {key:>13}: {value:,}")
for split, samples in data.splits.items():
    print(f"  {split:>5} 샘플: {len(samples):,}")

example_user = 0
print(f"\n사용자 {example_user}의 시퀀스: {data.sequences[example_user]}")
train_part = data.splits["train"]
first = [i for i, u in enumerate(train_part.user_ids) if u == example_user]
for i in first[-3:]:
    print(f"  학습 샘플: 입력 {train_part.inputs[i]} → 정답 {train_part.targets[i]}")
print(f"  테스트   : 입력 {data.splits['test'].inputs[example_user]} → "
      f"정답 {data.splits['test'].targets[example_user]}")

# %%
plots.plot_sequence_lengths(data);

# %% [markdown] key="lengths_note"
# 길이 분포는 꼬리가 깁니다. 대부분의 사용자는 아이템을 5~10개만 남겼고, 수백 개를 남긴 사용자는 드뭅니다.
# 짧은 시퀀스 하나만으로는 취향을 알기 어렵다는 점이 바로 GCL4SR이 **전역 그래프**를 끌어오는 이유입니다.

# %% [markdown] key="witg_intro"
# ## 2. TODO 1: 가중치 아이템 전이 그래프 (Weighted Item Transition Graph, WITG)
#
# WITG의 노드는 아이템이고, 어떤 사용자의 시퀀스에서 두 아이템이 가까이 붙어 나올수록 둘을 잇는 엣지의
# 가중치가 커집니다. 모든 학습 시퀀스 $s$, 거리 $k \in \{1, 2, 3\}$, 그리고 $t + k < |s|$인 모든
# 위치 $t$에 대해 (0부터 세는 인덱스):
#
# $$
# w\big(s_t,\ s_{t+k}\big) \mathrel{+}= \frac{1}{k}, \qquad w\big(s_{t+k},\ s_t\big) \mathrel{+}= \frac{1}{k}
# $$
#
# - 바로 다음 아이템($k=1$)은 1, 두 칸 떨어지면 $1/2$, 세 칸이면 $1/3$을 더합니다.
# - 그래프는 **무방향**이라 두 방향 모두에 더합니다.
# - 같은 쌍이 여러 번(여러 사용자, 또는 다른 거리로) 나오면 가중치가 **누적**됩니다.
#
# ### 손으로 풀어 보는 예제
#
# 시퀀스가 세 개 있다고 합시다: `[1, 2, 3, 4]`, `[3, 2, 5]`, `[5, 5, 6]`. 먼저 앞의 두 시퀀스입니다.
#
# | 쌍 | 어디서 나왔나 | 가중치 |
# |---|---|---|
# | {1, 2} | 첫 시퀀스, k=1 | 1 |
# | {2, 3} | 첫 시퀀스 k=1 (2→3) **+** 둘째 시퀀스 k=1 (3→2) | 1 + 1 = **2** |
# | {3, 4} | 첫 시퀀스, k=1 | 1 |
# | {1, 3} | 첫 시퀀스, k=2 | 1/2 |
# | {2, 4} | 첫 시퀀스, k=2 | 1/2 |
# | {1, 4} | 첫 시퀀스, k=3 | 1/3 |
# | {2, 5} | 둘째 시퀀스, k=1 | 1 |
# | {3, 5} | 둘째 시퀀스, k=2 | 1/2 |
#
# {2, 3}은 순서가 반대로 나와도 같은 엣지에 누적된다는 점을 눈여겨보세요.
#
# ### 같은 아이템이 한 시퀀스에 두 번 나오면: 자기 루프
#
# 셋째 시퀀스 `[5, 5, 6]`에도 규칙을 그대로 적용하면 됩니다. $k=1$, $t=0$인 쌍은 (5, 5)입니다. 두 방향
# 모두에 더하라고 했는데 두 방향이 같은 칸이므로, $w(5, 5)$에 1을 **두 번** 더합니다. 그래서 자기 자신으로
# 가는 엣지인 **자기 루프**(self-loop)의 가중치는 2가 됩니다. 나머지는 평소와 같습니다.
#
# | 쌍 | 어디서 나왔나 | 가중치 |
# |---|---|---|
# | (5, 5) | k=1, t=0: $w(5, 5)$에 1, 그리고 반대 방향인 $w(5, 5)$에 또 1 | 1 + 1 = **2** |
# | {5, 6} | k=1, t=1 (5→6) **+** k=2, t=0 (5→6) | 1 + 1/2 = **1.5** |
#
# 같은 아이템이 거리 $k$만큼 떨어져 다시 나올 때마다 자기 루프에 $2/k$씩 쌓입니다. 세 시퀀스를 합치면
# 쌍은 10개입니다. 그래프는 무방향이라 쌍마다 방향이 있는 엣지가 둘씩 생기지만 자기 루프는 하나뿐이므로,
# 방향이 있는 엣지는 9 × 2 + 1 = 19개입니다. 노드는 0부터 최대 ID 6까지 7개입니다 (0은 패딩이라 연결이
# 없습니다).
#
# ### 쓸 수 있는 도구
#
# - `read_item_sequences(path)` → `(user_sequences, num_nodes)`: 파일의 아이템 시퀀스 목록과
#   노드 수(최대 아이템 ID + 1).
# - `convert_to_pyg_data(adjacency_list, num_nodes)` → PyG `Data`: `adjacency_list[a]`는
#   `{b: w(a, b), ...}` 딕셔너리이고, 결과는 `x [N, 1]`, `edge_index [2, E]`, `edge_attr [E, 1]`입니다.
#
# 여러분이 채울 부분은 `adjacency_list`를 채우는 반복문입니다. 먼저 도구가 무엇을 주고받는지 봅시다.

# %% nbgrader="locked" grade_id="witg_example"
example_file = write_witg_example(Path(tempfile.mkdtemp(prefix="witg_")) / "example_train_seq.txt")
print("예제 파일 내용:\n" + example_file.read_text())
example_sequences, example_nodes = read_item_sequences(str(example_file))
print("read_item_sequences →", example_sequences, example_nodes)
tiny = convert_to_pyg_data([{}, {2: 0.5}, {1: 0.5}], num_nodes=3)  # 1과 2를 가중치 0.5로 잇는 그래프
print("convert_to_pyg_data →", tiny, tiny.edge_index.tolist(), tiny.edge_attr.view(-1).tolist())

# %% nbgrader="solution" grade_id="witg"
def build_weighted_item_transition_graph(train_sequence_file: str) -> Data:
    """학습 시퀀스 파일로 가중치 아이템 전이 그래프(WITG)를 만듭니다.

    모든 시퀀스 s, 거리 k = 1, 2, 3, 그리고 t + k < len(s)인 모든 위치 t에 대해
    w(s[t], s[t + k])와 w(s[t + k], s[t])에 각각 1/k를 더합니다.

    규칙 (숨은 테스트가 검사하는 전부):
        - 노드 수는 read_item_sequences가 돌려준 num_nodes(최대 아이템 ID + 1)입니다. 파일에
          나오지 않는 ID(0, 중간에 빠진 번호)도 노드로 남고, 엣지만 없습니다.
        - 같은 쌍이 다시 나오면 (다른 사용자, 다른 거리, 같은 시퀀스의 다른 위치) 모두 누적합니다.
        - 길이 2인 시퀀스도 쌍 하나(k = 1)를 만듭니다. 모델 입력의 길이(50)보다 긴 시퀀스도
          자르지 않고 전부 씁니다.
        - 같은 아이템이 거리 k로 다시 나오면 자기 루프(self-loop)가 생기고, 두 방향이 같은
          칸이므로 2/k가 쌓입니다. 예: [5, 5, 6] → w(5, 5) = 2, w(5, 6) = w(6, 5) = 1.5.

    인자:
        train_sequence_file: ``사용자ID 아이템1,아이템2,...`` 형식의 파일 경로 (all_train_seq.txt).

    반환값:
        convert_to_pyg_data가 만든 PyG ``Data``: ``x`` [N, 1], ``edge_index`` [2, E],
        ``edge_attr`` [E, 1].
    """
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    # adjacency_list[a] = {b: w(a, b), ...}: 아이템 a의 이웃 아이템과 가중치
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]

    ### BEGIN SOLUTION
    for sequence in user_sequences:
        for window in (1, 2, 3):
            weight = 1.0 / window
            for t in range(len(sequence) - window):
                a, b = sequence[t], sequence[t + window]
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + weight
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + weight
    ### END SOLUTION

    return convert_to_pyg_data(adjacency_list, num_nodes)


# %% [markdown] key="witg_example_note"
# 구현했다면 예제에 적용해 위의 표와 같은지 눈으로 확인해 보세요. 그림은 여러분의 함수가 만든 그래프를
# 그대로 그린 것입니다. 선의 굵기와 숫자가 가중치이고, 노드에 붙은 고리가 자기 루프입니다.

# %%
example_graph = build_weighted_item_transition_graph(str(example_file))
print(example_graph)
for (a, b), w in sorted(graph_as_dict(example_graph).items()):
    if a == b:
        print(f"  w({a}, {a}) = {w:.4f} (자기 루프)")
    elif a < b:
        print(f"  w({a}, {b}) = w({b}, {a}) = {w:.4f}")
plots.plot_small_graph(example_graph);

# %% nbgrader="tests" grade_id="witg_tests" points=2
# 공개 테스트 (2점): 손으로 푼 예제와 비교합니다.
expected_example = {(1, 2): 1.0, (2, 3): 2.0, (3, 4): 1.0, (1, 3): 0.5, (2, 4): 0.5,
                    (1, 4): 1 / 3, (2, 5): 1.0, (3, 5): 0.5, (5, 6): 1.5}
graph = build_weighted_item_transition_graph(str(example_file))
assert isinstance(graph, Data), "convert_to_pyg_data(...)가 돌려준 Data를 그대로 반환하세요."
assert graph.num_nodes == 7, f"노드는 0..6의 7개여야 합니다 (지금 {graph.num_nodes}개)."
got = graph_as_dict(graph)
for (a, b), w in expected_example.items():
    for edge in ((a, b), (b, a)):
        assert edge in got, f"엣지 {edge}가 없습니다. " + (
            "반대 방향은 있으니, 두 방향 모두에 더했는지 확인하세요." if edge[::-1] in got
            else "이 쌍이 어느 시퀀스의 어떤 거리에서 나오는지 위의 표에서 확인하세요.")
        assert math.isclose(got[edge], w, abs_tol=1e-4), f"w{edge} = {got[edge]}, 기대값 {w:.4f}"
self_loop = got.get((5, 5), 0.0)
assert math.isclose(self_loop, 2.0, abs_tol=1e-4), (
    f"자기 루프 w(5, 5) = {self_loop}, 기대값 2.0000. [5, 5, 6]의 쌍 (5, 5)도 다른 쌍처럼 두 방향 "
    "모두에 1/k를 더합니다: 두 방향이 같은 칸이므로 그 칸에 두 번 쌓입니다.")
assert len(got) == 19, f"엣지는 19개(9쌍 × 2방향 + 자기 루프 1개)여야 합니다 (지금 {len(got)}개)."
print("공개 테스트 통과 ✅")

# %% nbgrader="tests" grade_id="witg_hidden" points=4
# 숨은 테스트 (4점): 채점할 때 다른 시퀀스로 검사합니다. 지금은 예제에서 실행되는지만 봅니다.
_ = build_weighted_item_transition_graph(str(example_file))
### BEGIN HIDDEN TESTS
from grading.kernel import grade_witg
grade_witg(build_weighted_item_transition_graph, 4)
### END HIDDEN TESTS

# %% [markdown] key="witg_real"
# ### 실제 데이터로 WITG 만들기
#
# 이제 학습 시퀀스 전체로 그래프를 만들고, 저장된 **정답 그래프의 지문**(fingerprint)과 비교합니다.
# 정답 그래프 파일은 배포하지 않습니다. 모든 가중치가 $1, \tfrac12, \tfrac13$의 합, 즉 $\tfrac16$의
# 배수이므로 $(\text{src}, \text{dst}, 6w)$를 정수로 만들어 정렬한 뒤 해시하면 그래프를 정확히 식별할
# 수 있습니다. 점검은 노드·엣지 수, 가중치 합, 대칭성도 함께 보고, 흔한 실수가 만드는 개수와 같으면
# 그 실수를 짚어 줍니다.

# %%
start = time.perf_counter()
global_graph = build_weighted_item_transition_graph(str(data.train_sequence_file))
print(f"{global_graph}  ({time.perf_counter() - start:.1f}초)")
check_witg(global_graph, MODE.name, data=data);

# %%
plots.plot_graph_distribution(global_graph);

# %% [markdown] key="witg_distribution_note"
# 왼쪽(로그-로그)을 보면 차수 분포도 꼬리가 깁니다. 인기 아이템은 수천 개와 이어져 있고 대부분은 이웃이
# 몇 개뿐입니다. 오른쪽을 보면 가중치는 대부분 한 번만 함께 나온 쌍의 $1/3, 1/2, 1$입니다.
# 모델은 학습 때마다 각 아이템의 이웃을 한 홉에 최대 20개씩, 두 홉까지 무작위로 뽑아(이웃 샘플링)
# GNN에 넣습니다. 같은 시퀀스에 대해 이웃을 두 번 뽑아 두 개의 **증강된 뷰**를 만들고, 두 뷰가 서로를
# 알아보도록 학습하는 것이 GCL4SR의 그래프 대조 학습(GCL)입니다.

# %% [markdown] key="metrics_intro"
# ## 3. TODO 2: 평가 지표 Recall@k와 NDCG@k
#
# 평가는 **전체 랭킹**으로 합니다. 사용자마다 모든 아이템에 점수를 매기고, 이미 본 아이템은 빼고,
# 상위 $k$개 목록 $\hat{R}_u$를 만듭니다. 정답 집합을 $T_u$라 할 때 (이번 과제에서는 다음 아이템 하나):
#
# $$
# \text{Recall@}k(u) = \frac{|T_u \cap \hat{R}_u^{(k)}|}{|T_u|}
# \qquad
# \text{NDCG@}k(u) = \frac{\text{DCG@}k(u)}{\text{IDCG@}k(u)},
# \quad
# \text{DCG@}k(u) = \sum_{i=1}^{k} \frac{\mathrm{rel}_i}{\log_2(i + 1)}
# $$
#
# - $\mathrm{rel}_i$는 $i$등(1부터 셈) 아이템이 정답이면 1, 아니면 0입니다.
# - $\text{IDCG@}k$는 가장 이상적인 목록의 DCG입니다. 정답을 맨 앞부터 채우되
#   **$\min(k, |T_u|)$개**까지만 채울 수 있습니다. 정답이 하나면 IDCG = 1입니다.
# - 최종 값은 사용자 평균입니다. 정답이 **빈 사용자는 건너뛰고**(0점으로 세지 않음), 평가할 사용자가
#   하나도 없으면 0.0을 돌려줍니다.
# - $T_u$는 **집합**입니다. 정답 목록에 같은 아이템이 여러 번 적혀 있어도 한 번으로 셉니다. 추천 목록에는
#   같은 아이템이 두 번 나오지 않습니다 (엔진의 상위 $k$개 추출이 그렇게 만듭니다).
# - 추천 목록이 $k$개보다 **짧으면** 있는 만큼만 봅니다. IDCG는 추천 목록의 길이와 상관없이
#   $\min(k, |T_u|)$개로 계산합니다.
# - 정답이 하나일 때 Recall@k는 적중률(HR@k)과 같고, NDCG@k는 적중한 순위가 뒤일수록 점수를 깎습니다.
# - 7절의 평가에서는 사용자마다 정답이 다음 아이템 하나뿐이라 IDCG는 늘 1이고, 정답이 빈 사용자도
#   없습니다. 그래도 함수는 위의 규칙을 모두 지켜야 합니다. 정답이 여러 개인 평가에도 그대로 쓸 수 있어야
#   하고, 숨은 테스트도 그런 입력으로 검사합니다.
#
# ### 손으로 순위를 매겨 보는 예제
#
# | 사용자 | 정답 | 추천 목록 (1등부터) | 적중 순위 | Recall@1 | Recall@3 | NDCG@3 |
# |---|---|---|---|---|---|---|
# | A | 7 | 3, **7**, 1, 9, 4 | 2 | 0 | 1 | $1/\log_2 3 \approx 0.6309$ |
# | B | 2 | **2**, 5, 8, 6, 1 | 1 | 1 | 1 | $1/\log_2 2 = 1$ |
# | C | 9 | 4, 1, 6, 3, 5 | 없음 | 0 | 0 | 0 |
# | **평균** | | | | **1/3** | **2/3** | **≈ 0.5436** |
#
# 정답이 여러 개인 경우도 생각해 봅시다. 정답 {1, 2, 3, 4}, 추천이 1, 9, 2, 8, 3이고 $k = 2$이면
# 상위 2개 중 적중은 1 하나이므로 Recall@2 = 1/4입니다. DCG@2 = 1이고, IDCG@2는 정답 4개 중
# $\min(2, 4) = 2$개를 앞에 채운 $1 + 1/\log_2 3$이므로 NDCG@2 ≈ 0.6131입니다.

# %% nbgrader="solution" grade_id="recall"
def recall_at_k(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    """정답이 있는 사용자들의 Recall@k 평균.

    Recall@k(u) = |T_u ∩ (추천 목록의 상위 k개)| / |T_u|

    규칙 (숨은 테스트가 검사하는 전부):
        - 정답이 빈 사용자는 건너뜁니다: 평균의 분모에도 넣지 않습니다. 그런 사용자뿐이면 0.0.
        - T_u는 집합입니다: 정답에 같은 아이템이 여러 번 있어도 한 번으로 셉니다.
        - 추천 목록이 k개보다 짧으면 있는 만큼만 봅니다. 추천 목록에는 중복이 없습니다.
        - 정답이 여러 개여도 분모는 k가 아니라 |T_u|입니다.

    인자:
        actual: 사용자별 정답 아이템, 예: ``[[7], [2], [9]]``.
        predicted: 사용자별 추천 목록 (1등부터, actual과 같은 사용자 순서), 예: ``[[3, 7, 1], ...]``.
        topk: 추천 목록에서 몇 개까지 볼지 (k).

    반환값:
        정답이 있는 사용자들의 Recall@k 평균 (float).
    """
    ### BEGIN SOLUTION
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        if not relevant:
            continue
        hits = len(relevant & set(ranking[:topk]))
        scores.append(hits / len(relevant))
    return sum(scores) / len(scores) if scores else 0.0
    ### END SOLUTION


# %% nbgrader="solution" grade_id="ndcg"
def ndcg_at_k(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    """정답이 있는 사용자들의 NDCG@k 평균.

    NDCG@k(u) = DCG@k(u) / IDCG@k(u),  DCG@k(u) = Σ_{i=1..k} rel_i / log2(i + 1)

    규칙 (숨은 테스트가 검사하는 전부):
        - rel_i는 i등(1부터 셈) 추천이 정답이면 1, 아니면 0입니다.
        - IDCG@k는 정답 min(k, |T_u|)개를 1등부터 채운 이상적인 목록의 DCG입니다. 추천 목록의
          길이와는 상관없습니다 (목록이 k보다 짧아도 그대로입니다).
        - 정답이 빈 사용자는 건너뜁니다. 그런 사용자뿐이면 0.0.
        - T_u는 집합입니다: 정답에 같은 아이템이 여러 번 있어도 한 번으로 셉니다.
        - 추천 목록이 k개보다 짧으면 있는 만큼만 봅니다. 추천 목록에는 중복이 없습니다.

    인자:
        actual: 사용자별 정답 아이템.
        predicted: 사용자별 추천 목록 (1등부터, actual과 같은 사용자 순서).
        topk: 추천 목록에서 몇 개까지 볼지 (k).

    반환값:
        정답이 있는 사용자들의 NDCG@k 평균 (float).
    """
    ### BEGIN SOLUTION
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        if not relevant:
            continue
        dcg = sum(1.0 / math.log2(rank + 1)
                  for rank, item in enumerate(ranking[:topk], start=1) if item in relevant)
        ideal_hits = min(topk, len(relevant))
        idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_hits + 1))
        scores.append(dcg / idcg)
    return sum(scores) / len(scores) if scores else 0.0
    ### END SOLUTION


# %% nbgrader="locked" grade_id="metric_example"
hand_actual = [[7], [2], [9]]
hand_predicted = [[3, 7, 1, 9, 4], [2, 5, 8, 6, 1], [4, 1, 6, 3, 5]]
for k in (1, 3, 5):
    print(f"k={k}: Recall@k = {recall_at_k(hand_actual, hand_predicted, k):.4f}, "
          f"NDCG@k = {ndcg_at_k(hand_actual, hand_predicted, k):.4f}")
check_metrics(recall_at_k, ndcg_at_k);

# %% nbgrader="tests" grade_id="recall_tests" points=1
# 공개 테스트 (1점)
assert math.isclose(recall_at_k(hand_actual, hand_predicted, 1), 1 / 3), \
    "손으로 푼 예제의 Recall@1은 1/3입니다 (B만 1등에 적중)."
assert math.isclose(recall_at_k(hand_actual, hand_predicted, 3), 2 / 3), \
    "손으로 푼 예제의 Recall@3은 2/3입니다 (A와 B가 상위 3개 안에 적중)."
assert math.isclose(recall_at_k([[1, 2, 3, 4]], [[1, 9, 2, 8, 3]], 2), 1 / 4), \
    "정답 4개 중 상위 2개에서 1개를 맞혔습니다: 1/4"
assert math.isclose(recall_at_k([[7], []], [[7, 1], [2, 3]], 2), 1.0), \
    "정답이 빈 사용자는 건너뜁니다."
assert recall_at_k([[]], [[1, 2]], 2) == 0.0, "평가할 사용자가 없으면 0.0입니다."
print("공개 테스트 통과 ✅")

# %% nbgrader="tests" grade_id="recall_hidden" points=2
# 숨은 테스트 (2점): 채점할 때 다른 사용자들로 검사합니다.
_ = recall_at_k(hand_actual, hand_predicted, 3)
### BEGIN HIDDEN TESTS
from grading.kernel import grade_recall
grade_recall(recall_at_k, 2)
### END HIDDEN TESTS

# %% nbgrader="tests" grade_id="ndcg_tests" points=2
# 공개 테스트 (2점)
assert math.isclose(ndcg_at_k(hand_actual, hand_predicted, 1), 1 / 3), \
    "손으로 푼 예제의 NDCG@1은 1/3입니다 (B만 1등에 적중, 1등의 할인은 1)."
assert math.isclose(ndcg_at_k(hand_actual, hand_predicted, 3), (1 / math.log2(3) + 1) / 3), \
    "A는 2등 적중(1/log2(3)), B는 1등 적중(1), C는 0점입니다: 평균은 (1/log2(3) + 1) / 3."
assert math.isclose(ndcg_at_k([[1, 2, 3, 4]], [[1, 9, 2, 8, 3]], 2), 1 / (1 + 1 / math.log2(3))), \
    "IDCG@2는 정답 4개 중 min(2, 4) = 2개까지만 채운 이상적 목록의 DCG입니다."
assert math.isclose(ndcg_at_k([[7], []], [[7, 1], [2, 3]], 2), 1.0), \
    "정답이 빈 사용자는 건너뜁니다."
assert ndcg_at_k([[]], [[1, 2]], 2) == 0.0, "평가할 사용자가 없으면 0.0입니다."
print("공개 테스트 통과 ✅")

# %% nbgrader="tests" grade_id="ndcg_hidden" points=3
# 숨은 테스트 (3점): 채점할 때 다른 사용자들로 검사합니다.
_ = ndcg_at_k(hand_actual, hand_predicted, 3)
### BEGIN HIDDEN TESTS
from grading.kernel import grade_ndcg
grade_ndcg(ndcg_at_k, 3)
### END HIDDEN TESTS

# %% [markdown] key="mmd_intro"
# ## 4. TODO 3: MMD 손실
#
# GCL4SR은 한 시퀀스를 두 가지 눈으로 봅니다. 시퀀스 인코더(Transformer)가 그 사용자의 기록만 보고 만든
# **지역 표현**과, GNN이 WITG에서 이웃을 모아 만든 **전역 뷰**입니다. 논문은 둘이 너무 따로 놀지 않도록
# 두 쪽 표현의 *분포*를 가깝게 끌어당기는 손실을 하나 더 둡니다. 두 분포 사이의 거리로 쓰는 것이
# **MMD**(Maximum Mean Discrepancy)입니다. 이 노트북의 모델이 실제로 무엇과 무엇을 비교하는지는 이 절
# 끝의 '논문 vs 코드'에 있습니다.
#
# ### MMD가 재는 것
#
# 두 분포 $P, Q$에서 뽑은 표본 $x, x' \sim P$, $y, y' \sim Q$와 커널 $K$에 대해
#
# $$
# \mathrm{MMD}^2(P, Q) = \mathbb{E}[K(x, x')] + \mathbb{E}[K(y, y')] - 2\,\mathbb{E}[K(x, y)]
# $$
#
# 입니다. 커널 $K$가 만드는 특징 공간에서 두 분포의 **평균 사이 거리의 제곱**이라서 항상 0 이상이고,
# 가우시안 커널을 쓰면 두 분포가 같을 때에만 0이 됩니다. 평균이나 분산 하나만 비교하는 것이 아니라
# 분포 전체의 모양을 비교하는 셈입니다.
#
# 배치에서는 기댓값을 표본 평균으로 바꿉니다. source $X$ ($B$ 행)와 target $Y$ ($B$ 행)를 위아래로
# 붙인 $2B$개 표본의 커널 행렬은 네 블록으로 나뉩니다.
#
# $$
# K = \begin{bmatrix} K_{XX} & K_{XY} \\ K_{YX} & K_{YY} \end{bmatrix} \in \mathbb{R}^{2B \times 2B},
# \qquad
# \widehat{\mathrm{MMD}}^2 = \operatorname{mean}\big(K_{XX} + K_{YY} - K_{XY} - K_{YX}\big)
# $$
#
# 네 블록이 모두 $B \times B$이므로 합한 뒤 평균을 내면 각 블록 평균의 합과 같습니다. 대각선(자기 자신과의
# 커널)도 그대로 포함합니다.
#
# ### 왜 여러 대역폭(multi-kernel)인가
#
# 가우시안 커널 $K(a, b) = \exp(-\lVert a - b\rVert^2 / \text{bw})$는 대역폭 bw에 민감합니다. 너무 작으면
# 서로 다른 표본 사이의 값이 모두 0에 가까워지고, 너무 크면 모두 1에 가까워져서 어느 쪽이든 두 분포의
# 차이를 보지 못하고 기울기도 사라집니다. 그래서 `gaussian_kernel`은 기준 대역폭을 데이터에서 정하고
# (모든 쌍의 제곱 거리 평균) 그 $\tfrac14, \tfrac12, 1, 2, 4$ 배인 커널 5개를 **더합니다**
# (`kernel_mul=2.0`, `kernel_num=5`). 가까운 차이와 먼 차이를 동시에 봅니다. `fix_sigma`를 주면 기준
# 대역폭을 그 값으로 고정합니다.
#
# 모델 안에서 source와 target은 `[B, 50]`입니다 (함수는 폭이 50이 아닌 `[B, D]`도 받아야 합니다).
# 시퀀스의 50개 위치마다 숫자가 하나씩 있습니다. source는 입력 아이템의 임베딩을 `w_e`로 사영한 값이고,
# target은 게이트 뷰를 `w_g`로 사영한 값입니다. 게이트 뷰 $Q'$, $Q''$ 각각과의 MMD를 더하고
# $\lambda_2 = 0.1$을 곱해 전체 손실에 넣습니다.
#
# > **논문 vs 코드: MMD가 비교하는 것.** 논문은 시퀀스 인코더(Transformer)가 만든 지역 표현과 전역 뷰의
# > 분포를 MMD로 맞춘다고 설명합니다. 원본 과제의 코드와 그것을 따르는 이 엔진은 Transformer를 거치지
# > 않은 입력 아이템 임베딩을 `w_e`로 사영한 값을 씁니다. 또 실제 아이템이 있는 위치만이 아니라 패딩까지
# > 50개 위치를 모두 넣습니다. 엔진에서 패딩(아이템 0)의 임베딩은 0이므로 패딩 위치의 source는 모두
# > `w_e`의 편향 하나와 같습니다. 원본 과제와 같은 모델을 학습하도록 이 동작을 그대로 두었습니다.
# > 여러분의 `MMD_loss`는 어느 쪽이든 `[B, D]` 배치 두 개를 받으므로 구현은 달라지지 않습니다.
#
# `gaussian_kernel`은 주어집니다. 무엇을 돌려주는지 먼저 보세요.

# %%
demo_source, demo_target = mmd_example(3, 0.5)
demo_kernels = gaussian_kernel(demo_source, demo_target)
print("source", tuple(demo_source.shape), "target", tuple(demo_target.shape),
      "→ kernels", tuple(demo_kernels.shape))
print(demo_kernels.numpy().round(3))

# %% nbgrader="solution" grade_id="mmd"
def MMD_loss(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
             fix_sigma: float | None = None) -> Tensor:
    """여러 대역폭의 가우시안 커널(gaussian_kernel)로 두 배치 사이의 MMD 제곱을 계산합니다.

    MMD² = mean(K_XX + K_YY − K_XY − K_YX)   (네 블록 모두 B × B)

    규칙 (숨은 테스트가 검사하는 전부):
        - source와 target은 행 수 B가 같은 [B, D] 텐서입니다. 모델 안에서는 D = 50이지만,
          D는 어떤 값이든 될 수 있습니다 (예: [10, 20]). B도 2처럼 작을 수 있습니다.
        - kernel_mul, kernel_num, fix_sigma는 받은 값을 그대로 gaussian_kernel에 넘깁니다.
        - 대각선(자기 자신과의 커널)도 평균에 넣고, 제곱근은 씌우지 않습니다.
        - 같은 배치끼리의 MMD는 0입니다.
        - 모델이 이 값으로 역전파합니다: 계산 그래프를 끊지 마세요 (.item(), .detach(),
          numpy 변환 금지).

    인자:
        source: 첫 번째 분포의 표본, ``[B, D]``.
        target: 두 번째 분포의 표본, ``[B, D]``.
        kernel_mul, kernel_num, fix_sigma: gaussian_kernel에 그대로 넘길 인자.

    반환값:
        MMD² 값을 담은 0차원 텐서.
    """
    ### BEGIN SOLUTION
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target, kernel_mul=kernel_mul, kernel_num=kernel_num,
                              fix_sigma=fix_sigma)
    xx = kernels[:batch_size, :batch_size]
    yy = kernels[batch_size:, batch_size:]
    xy = kernels[:batch_size, batch_size:]
    yx = kernels[batch_size:, :batch_size]
    return torch.mean(xx + yy - xy - yx)
    ### END SOLUTION


# %%
print("MMD(source, target) =", float(MMD_loss(demo_source, demo_target)))
check_mmd(MMD_loss);

# %% nbgrader="tests" grade_id="mmd_tests" points=2
# 공개 테스트 (2점): MMD의 성질과 공개 예제 값
x = torch.randn(16, 50, generator=torch.Generator().manual_seed(0))
same = MMD_loss(x, x.clone())
assert isinstance(same, Tensor) and same.dim() == 0, "0차원 텐서(스칼라)를 반환하세요."
assert abs(same.item()) < 1e-5, "같은 표본끼리의 MMD는 0입니다."
apart = MMD_loss(x, x + 1.0)
assert apart.item() > 0, "서로 다른 분포의 MMD는 양수입니다 (부호를 확인하세요)."
assert math.isclose(apart.item(), MMD_loss(x + 1.0, x).item(), rel_tol=1e-4), "MMD는 대칭입니다."
narrow = MMD_loss(*mmd_example(6, 0.5, dim=20))  # 폭 D = 20: 50이 아닌 입력
assert math.isclose(narrow.item(), 1.130148, rel_tol=1e-4), \
    (f"[6, 20] 입력의 MMD가 {narrow.item():.6f}입니다 (기대 1.130148). "
     "블록을 폭 D나 50이 아니라 행 수 B로 나눴는지 확인하세요.")
assert check_mmd(MMD_loss, quiet=True), "check_mmd(MMD_loss)를 실행해 실패한 항목을 확인하세요."
print("공개 테스트 통과 ✅")

# %% nbgrader="tests" grade_id="mmd_hidden" points=4
# 숨은 테스트 (4점): 채점할 때 다른 배치로 검사합니다.
_ = MMD_loss(torch.zeros(2, 50), torch.ones(2, 50))
### BEGIN HIDDEN TESTS
from grading.kernel import grade_mmd
grade_mmd(MMD_loss, 4)
### END HIDDEN TESTS

# %% [markdown] key="tour_intro"
# ## 5. 모델과 학습 둘러보기: 논문을 코드로 읽기
#
# 부품을 모두 만들었으니 모델 전체를 읽어 봅시다. 학습에 쓰는 엔진(`gcl4sr_helpers.model`)은 노트북 컴퓨터의
# CPU에서 빠르게 돌도록 패딩을 건너뛰고, 큰 행렬을 블록으로 나누고, 역전파 때 일부를 다시 계산합니다. 빠른
# 대신 읽기는 어렵습니다. 그래서 같은 모델을 논문의 순서대로, 부품 하나를 짧은 함수 하나로 다시 쓴 것이
# `gcl4sr_helpers.readable_model`입니다. 모든 텐서를 패딩까지 포함한 `[B, L, ...]` 모양 그대로 계산하고,
# 파라미터는 엔진 모델의 것을 그대로 씁니다. 학습 한 스텝과 평가(이미 본 아이템 가리기, 추천 목록 뽑기)도
# 같은 방식으로 `gcl4sr_helpers.readable_trainer`에 다시 썼습니다(⑦, ⑧). 읽기용 코드가 엔진과 같은 손실,
# 같은 기울기, 같은 추천 목록을 낸다는 것은 키트의 테스트가 확인합니다.
#
# 아래에서는 부품마다 코드를 출력하고, 학습 샘플 4개로 된 작은 배치에 돌려 텐서의 모양을 봅니다.
# B는 배치 크기(4), L은 시퀀스 길이(50), d는 은닉 차원(64)입니다. 드롭아웃은 끄고(`eval()`) 봅니다.
#
# **연습 다섯 개.** 중간중간 채점하지 않는 연습이 있습니다. 먼저 결과를 **예측**해 메모해 두고(코드 셀에
# 주석으로 적어도 됩니다), 코드 셀을 **실행**한 뒤, 예측과 비교하며 **눈여겨볼 점**을 읽으세요. 셀마다
# 1–2초 안에 끝나고 점수와 무관하니, 숫자를 바꿔 다시 돌려 봐도 됩니다. 아직 학습하지 않은 모델이므로 여기서
# 보는 것은 학습이 *출발하는 곳*입니다.

# %%
import copy
import inspect

from gcl4sr_helpers import readable_model as rm
from gcl4sr_helpers import readable_trainer as rt
from gcl4sr_helpers import trainer as engine_trainer
from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.experiment import build_model
from gcl4sr_helpers.graph import CSRAdjacency
from gcl4sr_helpers.sampler import sample_neighbors
from scipy.sparse import csr_matrix


def show(function) -> None:
    """부품 함수의 소스 코드를 출력합니다."""
    print(inspect.getsource(function))


tour_model = build_model(data, global_graph, MMD_loss, CONFIG).eval()  # 드롭아웃 끔
tour_users, tour_inputs, tour_targets = SequenceDataset(
    data.splits["train"], CONFIG.max_seq_length)[torch.arange(4)]
tour_real = tour_inputs != 0  # 패딩(0)이 아닌 위치
tour_generator = torch.Generator().manual_seed(CONFIG.seed)  # 이웃 샘플링용 난수 생성기
print("inputs", tuple(tour_inputs.shape), "| 샘플별 실제 아이템 수:", tour_real.sum(1).tolist())
print("마지막 5칸:", tour_inputs[:, -5:].tolist(), "→ 정답", tour_targets.tolist())

# 연습용 배치: 테스트 분할의 처음 사용자 4명 (사용자마다 입력은 마지막 아이템 앞까지의 기록)
ex_users, ex_inputs, ex_targets = SequenceDataset(
    data.splits["test"], CONFIG.max_seq_length)[torch.arange(4)]
ex_real = ex_inputs != 0
print("연습용 사용자", ex_users.tolist(), "| 사용자별 실제 아이템 수:", ex_real.sum(1).tolist())

# %% [markdown] key="tour_global_view"
# ### ① 전역 뷰: 그래프 기반 증강과 공유 GNN
#
# 논문의 그래프 기반 증강(graph-based augmentation)과 공유 GNN(shared graph neural networks) 부분입니다.
# 배치의 모든 위치마다 WITG 이웃을 한 홉에 최대 20개씩, 두 홉까지 무작위로 뽑아 부분 그래프를 만들고
# (증강), 바깥 홉부터 차례로 가중치 GCN과 GraphSAGE를 적용합니다. GCN은 여러분이 만든 WITG의 가중치
# $w$를 씁니다. 같은 배치에서 이웃을 두 번 뽑으면 서로 다른 두 전역 뷰 $H'$, $H''$가 생깁니다.

# %%
show(rm.global_view)
show(rm.gnn_hop)
view_a = rm.global_view(tour_model, tour_inputs, tour_generator)
view_b = rm.global_view(tour_model, tour_inputs, tour_generator)
print("H'", tuple(view_a.shape), " H''", tuple(view_b.shape))
print("두 뷰가 실제 위치에서 다른 정도 (벡터 차이의 평균 길이):",
      round((view_a - view_b)[tour_real].norm(dim=-1).mean().item(), 4))

# %% [markdown] key="exercise_1"
# #### 연습 1. 가장 강한 이웃은 더 자주 뽑힐까?
#
# 여러분의 WITG에서 이웃이 가장 많은 아이템을 골라, 가중치가 가장 큰 이웃 5개와 가장 작은 이웃 1개를
# 봅니다. 그리고 샘플러로 이 아이템의 이웃을 10,000번(한 번에 20개씩) 뽑아, 각 이웃이 뽑힌 횟수를 셉니다.
#
# **예측해 보세요.** 가중치가 가장 큰 이웃은 가장 작은 이웃보다 몇 배쯤 자주 뽑힐까요? 가중치에 비례할까요,
# 아니면 비슷할까요?

# %%
degree = torch.bincount(global_graph.edge_index[0], minlength=global_graph.num_nodes)
item = int(degree.argmax())  # 이웃이 가장 많은 아이템
is_mine = global_graph.edge_index[0] == item
neighbours = global_graph.edge_index[1, is_mine]
weights = global_graph.edge_attr.view(-1)[is_mine]
strongest_first = torch.sort(weights, descending=True, stable=True).indices
shown = [*strongest_first[:5].tolist(), *strongest_first[5:][-1:].tolist()]  # 상위 5개 + 가장 약한 1개

adjacency = CSRAdjacency(tour_model.graph_rowptr, tour_model.graph_col, tour_model.graph_edge_id)
draws, k = 10_000, CONFIG.sample_size[0]
_, drawn, _ = sample_neighbors(adjacency, torch.full((draws,), item), k,
                               torch.Generator().manual_seed(CONFIG.seed))
print(f"아이템 {item}: 이웃 {len(neighbours):,}개, 한 번에 {k}개씩 {draws:,}번 뽑았습니다")
print(f"{'가중치 순위':>8} {'이웃':>7} {'가중치':>7} {'뽑힌 횟수':>8}")
for rank in shown:
    neighbour = int(neighbours[rank])
    count = (drawn == neighbour).sum().item()
    print(f"{rank + 1:>10}위 {neighbour:>7} {weights[rank].item():>9.3f} {count:>10,}")
print(f"이웃 {len(neighbours):,}개 중 {k}개를 가리지 않고 뽑을 때 이웃마다 기대되는 횟수: "
      f"{draws * min(1.0, k / max(1, len(neighbours))):,.0f}")

# %% [markdown] key="exercise_1_note"
# **눈여겨볼 점.** 가중치가 몇 배 차이 나도 뽑힌 횟수는 거의 같고, 기대 횟수 근처에서 무작위로 조금씩
# 다를 뿐입니다. 샘플러는 이웃을 가중치와 무관하게 **균등하게** 뽑습니다 (원본 과제 코드가 쓰던 PyG의
# `NeighborSampler`와 같은 방식입니다). 가중치는 뽑힌 뒤에 쓰입니다. 위의 `gnn_hop`에서 GCN이 이웃을
# 더할 때 행렬 $A$의 값이 바로 WITG의 가중치입니다. 뽑을 때마다 부분 그래프가 달라지므로 같은 시퀀스에서
# 서로 다른 두 뷰가 나오고, 이것이 GCL4SR의 증강입니다.

# %% [markdown] key="tour_gate"
# ### ② 사용자별 게이트
#
# 논문의 사용자별 게이트(user-specific gating) 부분입니다. 전역 문맥이 얼마나 도움이 되는지는 사용자마다
# 다르므로, 아이템의 전역 뷰와 사용자 임베딩 $p_u$로 위치마다 0과 1 사이의 게이트 값을 만들어 전역 뷰에
# 곱합니다. 그 결과가 게이트 뷰 $Q'$, $Q''$입니다.

# %%
show(rm.gate_values)
show(rm.user_gating)
gated = [rm.user_gating(tour_model, view, tour_users) for view in (view_a, view_b)]
print("Q' (게이트 뷰)", tuple(gated[0].shape))

# %% [markdown] key="exercise_2"
# #### 연습 2. 학습 전의 게이트 값
#
# 연습용 사용자 4명의 게이트 값 $g = \sigma(H' g_{\text{item}} + p_u G_{\text{user}})$를 실제 위치마다
# 계산합니다. 시그모이드 안의 두 항(아이템 쪽과 사용자 쪽)의 크기도 함께 봅니다.
#
# **예측해 보세요.** 아직 학습하지 않은 모델에서 게이트 값은 0, 0.5, 1 중 어디에 가까울까요? 사용자마다
# 크게 다를까요?

# %%
with torch.no_grad():
    ex_view = rm.global_view(tour_model, ex_inputs, torch.Generator().manual_seed(CONFIG.seed))
    ex_gate = rm.gate_values(tour_model, ex_view, ex_users)  # [4, L]
    item_term = (ex_view @ tour_model.gate_item).squeeze(-1)  # H' g_item
    user_term = tour_model.user_embeddings(ex_users) @ tour_model.gate_user  # p_u G_user
for row, user in enumerate(ex_users.tolist()):
    real = ex_real[row]
    gate = ex_gate[row, real]
    print(f"사용자 {user:>4}: 게이트 평균 {gate.mean():.3f} (범위 {gate.min():.3f}–{gate.max():.3f}) | "
          f"두 항의 최대 크기: 아이템 쪽 {item_term[row, real].abs().max():.3f}, "
          f"사용자 쪽 {user_term[row, real].abs().max():.3f}")

# %% [markdown] key="exercise_2_note"
# **눈여겨볼 점.** 모든 게이트 값이 0.5 근처입니다. 파라미터가 작게 초기화되어 두 항이 모두 0에 가깝고,
# $\sigma(0) = 0.5$이기 때문입니다. 즉 학습 전에는 모든 사용자가 전역 뷰의 절반쯤을 받습니다. 어떤 사용자에게
# 전역 문맥을 더 열어 줄지는 학습이 $g_{\text{item}}$과 $G_{\text{user}}$를 바꾸며 정합니다. 엔진에서는 두
# 벡터가 학습되는 파라미터입니다 (원본 과제 코드에서는 학습되지 않는 고정된 난수였습니다: 8절).

# %% [markdown] key="tour_local"
# ### ③ 지역 표현: 시퀀스 인코더
#
# 논문의 기본 시퀀스 인코더(basic sequence encoder)로, SASRec과 비슷한 Transformer입니다. 그 출력이
# 지역 표현 $H$입니다. 위치 $t$는 $t$까지의 실제 아이템만 봅니다(인과 마스크). SASRec과 달리 입력에 위치
# 임베딩을 더하지 않고, 위치 정보는 ④의 어텐션 풀링에서 씁니다.

# %%
show(rm.transformer_layer)
show(rm.local_view)
local = rm.local_view(tour_model, tour_inputs)
print("H (지역 표현)", tuple(local.shape))

# %% [markdown] key="tour_pooling"
# ### ④ 합치기와 어텐션 풀링
#
# 지역 표현 $H$와 두 게이트 뷰 $Q'$, $Q''$를 이어 붙여 선형 변환으로 $d$차원에 되돌린 뒤, 어텐션
# 네트워크가 위치마다 가중치 $\alpha_t$를 매겨 시퀀스 벡터 $z$ 하나로 모읍니다 (논문에서 세 표현을
# 합쳐 시퀀스 표현을 만드는 부분). 패딩 위치는 빠집니다. `encode`는 ①부터 ④까지를 한 번에 합니다.

# %%
show(rm.attention_pooling)
show(rm.sequence_vector)
show(rm.encode)
hidden = tour_model.linear_transform(torch.cat([local, *gated], -1))  # [B, L, 3d] → [B, L, d]
z = rm.sequence_vector(tour_model, local, gated, tour_real)
print("이어 붙인 표현", (*local.shape[:2], 3 * local.shape[2]), "→ hidden", tuple(hidden.shape),
      "→ z", tuple(z.shape))

# %% [markdown] key="exercise_3"
# #### 연습 3. 전역 뷰를 끄면 추천이 얼마나 바뀔까?
#
# 연습용 사용자 4명의 시퀀스 벡터 $z$를 세 가지로 만듭니다. 모두 켠 것, 두 게이트 뷰를 0으로 바꾼 것(전역 뷰
# 끔), 지역 표현 $H$를 0으로 바꾼 것(지역 표현 끔)입니다. 모델의 파라미터는 그대로이고 `sequence_vector`에
# 넣는 입력만 바꿉니다. 각 $z$로 모든 아이템의 점수를 매겨 상위 10개를 뽑고, 모두 켰을 때의 상위 10개 중
# 몇 개가 남는지 셉니다.
#
# **예측해 보세요.** 전역 뷰를 끄면 상위 10개 중 몇 개가 남을까요? 지역 표현을 끄면요?

# %%
with torch.no_grad():
    _, _, ex_gated = rm.encode(tour_model, ex_users, ex_inputs,
                               torch.Generator().manual_seed(CONFIG.seed))
    ex_local = rm.local_view(tour_model, ex_inputs)
    no_gate = [torch.zeros_like(view) for view in ex_gated]
    ex_z = {"모두 켬": rm.sequence_vector(tour_model, ex_local, ex_gated, ex_real),
            "전역 뷰 끔": rm.sequence_vector(tour_model, ex_local, no_gate, ex_real),
            "지역 표현 끔": rm.sequence_vector(tour_model, torch.zeros_like(ex_local), ex_gated,
                                           ex_real)}
    ex_top = {name: torch.topk(tour_model.score_items(vector), 10).indices
              for name, vector in ex_z.items()}
for name in ("전역 뷰 끔", "지역 표현 끔"):
    kept = [len(set(a) & set(b)) for a, b in zip(ex_top["모두 켬"].tolist(), ex_top[name].tolist())]
    print(f"{name}: 사용자별로 상위 10개 중 남은 아이템 수 {kept}")
print(f"벡터 길이의 평균 (실제 위치): 지역 표현 H {ex_local[ex_real].norm(dim=-1).mean():.2f}, "
      f"게이트 뷰 Q' {ex_gated[0][ex_real].norm(dim=-1).mean():.2f}")

# %% [markdown] key="exercise_3_note"
# **눈여겨볼 점.** 전역 뷰를 꺼도 목록은 대부분 그대로이고, 지역 표현을 끄면 거의 다 바뀝니다. 마지막 줄이
# 이유입니다. Transformer의 출력은 LayerNorm을 거쳐 길이가 $\sqrt{d} = 8$ 안팎이고, GraphSAGE의 출력은
# 길이 1로 정규화된 뒤 게이트(약 0.5)를 곱하므로 길이가 0.5 안팎입니다. 학습 전의 $z$는 거의 지역 표현만으로
# 정해지고, 전역 문맥에 얼마나 기댈지는 학습이 선형 변환 $W_T$와 게이트를 바꾸며 정합니다. 그래서 부품의
# 쓸모는 학습한 모델로 재야 합니다. 논문도 부품(대조 손실, MMD 손실, WITG의 가중치)을 하나씩 뺀 모델을
# 처음부터 학습해 비교합니다.

# %% [markdown] key="tour_losses"
# ### ⑤ 세 손실과 전체 목적 함수
#
# - **예측 손실**: $z$와 모든 아이템 임베딩의 내적에 softmax를 씌운 교차 엔트로피입니다.
# - **대조 손실**(논문의 GCL 목적 함수): 같은 시퀀스의 두 전역 뷰 평균 $z'$, $z''$는 서로 가깝게, 다른
#   시퀀스와는 멀게 만듭니다 (NT-Xent, 온도 $\tau = 0.5$). 바로 아래의 선택 과제에서 직접 만들어 봅니다.
# - **MMD 손실**(논문의 MMD 항): 위치마다 숫자 하나인 두 분포, 즉 사영한 아이템 임베딩 $w_e(E[s])$와
#   사영한 게이트 뷰 $w_g(Q')$, $w_g(Q'')$(각각 `[B, L]`)를 여러분의 `MMD_loss`로 가깝게 만듭니다.
#
# 전체 손실은 $\mathcal{L} = \mathcal{L}_{\text{main}} + \lambda_1 \mathcal{L}_{\text{GCL}} + \lambda_2 \mathcal{L}_{\text{MMD}}$입니다.
#
# > **논문 vs 코드: MMD의 입력.** 논문은 WITG의 전역 문맥으로 증강한 표현과 원래 시퀀스의 지역 표현 사이의
# > 차이를 줄인다고 씁니다. 원본 과제 코드와 그것을 따르는 엔진은 지역 표현 $H$(Transformer의 출력)가 아니라
# > Transformer에 들어가기 *전*의 아이템 임베딩 $E[s]$를 $w_e$로 사영하고, 패딩 위치까지 50칸을 모두
# > 표본으로 씁니다. 기본 모드에서 패딩 임베딩은 0이므로 패딩 칸의 값은 모두 $w_e$의 편향 하나와 같습니다.
# > 읽기용 `mmd_term`도 코드를 따릅니다.

# %% [markdown] key="nt_xent_intro"
# #### 선택 과제 (TODO 4, 채점하지 않음): 대조 손실 NT-Xent 직접 만들기
#
# 이 손실이 GCL4SR의 "GCL", 즉 그래프 대조 학습을 움직입니다. 엔진은 이미 `gcl_loss`로 계산하므로 채우지
# 않아도 노트북은 끝까지 돌고 점수도 그대로입니다. 아래에서 읽기용 코드를 출력하기 **전에** 직접 써 보세요.
#
# 배치의 시퀀스 $B$개마다 두 전역 뷰를 실제 위치에서 평균한 벡터 $z'$, $z''$가 있습니다 (`view_a`,
# `view_b`, 각각 `[B, d]`). 둘을 위아래로 붙이면 $2B$개의 행 $z_0, \dots, z_{2B-1}$이 됩니다. 행 $i$의
# **양성 쌍**은 같은 시퀀스의 다른 뷰, 즉 $p(i) = i \pm B$번 행이고, 나머지 $2B - 2$개 행은 모두 **음성**입니다.
#
# $$
# \mathcal{L}_{\text{GCL}} = -\frac{1}{B} \sum_{i=0}^{2B-1} \log
# \frac{\exp(\hat z_i \cdot \hat z_{p(i)} / \tau)}{\sum_{j \ne i} \exp(\hat z_i \cdot \hat z_j / \tau)},
# \qquad \hat z_i = \frac{z_i}{\lVert z_i \rVert}
# $$
#
# - 행을 길이 1로 맞추면(**L2 정규화**) 두 행의 내적 $\hat z_i \cdot \hat z_j$는 **코사인 유사도**가 됩니다.
#   모든 쌍을 모으면 $[2B, 2B]$ **유사도 행렬**입니다.
# - 분모는 자기 자신($j = i$)을 뺀 $2B - 1$개 행의 합입니다. 그러니 행마다 "자기 자신을 뺀 나머지 중에서
#   양성 쌍을 고르는" softmax 확률을 구해 $-\log$를 씌우는 셈입니다.
# - 유사도를 **온도** $\tau$(기본 0.5)로 나눕니다. $\tau$가 작을수록 가장 비슷한 행이 확률을 독차지합니다.
# - $2B$개 행의 합을 $B$로 나눕니다. `view_a` 쪽 행들의 평균 손실과 `view_b` 쪽 행들의 평균 손실을 더한 것과
#   같습니다. SimCLR는 $2B$로 나누므로 그 값의 절반입니다.
#
# 쓸 수 있는 도구: `torch.cat`, `Tensor.norm(dim=1, keepdim=True)`, 행렬곱 `@`, `torch.eye`,
# `torch.logsumexp`, `torch.arange`. 반복문 없이 행렬 연산만으로 쓸 수 있습니다. 엔진의 `gcl_loss`나 읽기용
# `rm.contrastive_loss`를 부르면 연습이 되지 않습니다. 아래 점검은 여러분의 값을 엔진의 `gcl_loss`와 비교하고,
# 모든 NT-Xent가 지니는 성질(행의 길이와 무관하고, 두 뷰를 바꿔도 같고, 두 뷰가 같고 행끼리 직교하면 손실이
# 거의 0인 것)을 확인합니다. 통과하면 모델의 실제 두 전역 뷰에도 써 봅니다.

# %% nbgrader="solution" grade_id="nt_xent"
def nt_xent(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    """두 뷰 사이의 대조 손실 NT-Xent (선택 과제, 채점하지 않음).

    L = -(1/B) Σ_{i<2B} log( exp(ẑ_i·ẑ_p(i) / τ) / Σ_{j≠i} exp(ẑ_i·ẑ_j / τ) ),  p(i) = i ± B

    규칙:
        - view_a와 view_b는 행 수 B가 같은 [B, d] 텐서이고, 두 뷰의 i번 행끼리 양성 쌍입니다.
        - 유사도는 L2 정규화한 행끼리의 내적(코사인 유사도)을 temperature로 나눈 값입니다.
        - 분모에서 자기 자신(j = i)은 뺍니다.
        - 2B개 행의 손실을 더해 B로 나눕니다.
        - 계산 그래프를 끊지 마세요 (.item(), .detach(), numpy 변환 금지).

    인자:
        view_a: 첫 번째 뷰, ``[B, d]`` (모델에서는 H′를 실제 위치에서 평균한 z′).
        view_b: 두 번째 뷰, ``[B, d]`` (z″).
        temperature: 온도 τ.

    반환값:
        손실을 담은 0차원 텐서.
    """
    ### BEGIN SOLUTION
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)  # L2 정규화: 내적이 코사인 유사도가 됩니다
    similarity = z @ z.T / temperature  # [2B, 2B] 유사도 행렬
    itself = torch.eye(2 * batch, dtype=torch.bool, device=z.device)
    similarity = similarity.masked_fill(itself, float("-inf"))  # 분모에서 자기 자신을 뺍니다
    rows = torch.arange(2 * batch, device=z.device)
    partners = (rows + batch) % (2 * batch)  # 양성 쌍: i ± B
    log_probs = similarity[rows, partners] - torch.logsumexp(similarity, dim=1)
    return -log_probs.sum() / batch
    ### END SOLUTION


# %%
if check_nt_xent(nt_xent):  # 통과했다면 모델의 실제 두 전역 뷰(①의 H′, H″)에 써 봅니다
    with torch.no_grad():
        weights = tour_real.unsqueeze(-1).float()  # 실제 위치만 평균합니다
        z_a, z_b = ((view * weights).sum(1) / weights.sum(1) for view in (view_a, view_b))
        print(f"여러분의 nt_xent(z′, z″) = {nt_xent(z_a, z_b).item():.6f} | 읽기용 "
              f"rm.contrastive_loss = {rm.contrastive_loss(view_a, view_b, tour_real).item():.6f}")

# %%
# 선택 과제의 nt_xent를 채웠다면 읽기용 contrastive_loss와 비교해 보세요.
for function in (rm.main_loss, rm.contrastive_loss, rm.mmd_term, rm.losses):
    show(function)
print("main", round(rm.main_loss(tour_model, z, tour_targets).item(), 4),
      "| gcl", round(rm.contrastive_loss(view_a, view_b, tour_real).item(), 4),
      "| mmd", round(rm.mmd_term(tour_model, tour_inputs, gated, MMD_loss).item(), 4))

# %% [markdown] key="tour_same_model"
# ### ⑥ 엔진과 같은 모델인가
#
# 같은 난수 시드로 이웃을 뽑으면 읽기용 모델과 엔진은 같은 손실을 냅니다. 차이는 부동소수점 덧셈 순서에서
# 오는 $10^{-6}$ 안팎뿐입니다.

# %%
readable_losses = rm.losses(tour_model, tour_users, tour_inputs, tour_targets, MMD_loss,
                            torch.Generator().manual_seed(1))
engine_losses = tour_model.calculate_loss(tour_users, tour_inputs, tour_targets,
                                          torch.Generator().manual_seed(1))
for name, ours, engine in zip(("전체", "main", "gcl", "mmd"), readable_losses, engine_losses):
    print(f"{name:>4}: 읽기용 {ours.item():.6f} | 엔진 {engine.item():.6f}")

# %% [markdown] key="tour_train_step"
# ### ⑦ 학습 한 스텝
#
# 원본 과제는 학습기의 코드를 노트북에 적어 두었습니다. 엔진에서는 6절의 `run.train_epoch`가 그 일을 합니다.
# 안에서 배치마다 하는 일을 읽기용으로 다시 쓴 것이 `rt.train_step`입니다. 순전파로 세 손실과 전체 손실을
# 계산하고, 역전파로 기울기를 구하고, 옵티마이저(Adam)가 파라미터를 한 번 갱신합니다.

# %%
show(rt.train_step)

# %% [markdown] key="exercise_4"
# #### 연습 4. 같은 배치로 세 번 학습하면
#
# `tour_model`의 복사본을 학습 모드(드롭아웃 켬)로 두고, 학습 샘플 16개로 된 같은 배치로 `rt.train_step`을
# 세 번 부릅니다. 옵티마이저와 학습률은 6절과 같습니다.
#
# **예측해 보세요.** 예측 손실(main)은 아무것도 배우지 않았을 때의 값 $\ln(\text{아이템 수})$에서 얼마나
# 내려갈까요? 대조 손실(gcl)과 MMD 손실(mmd)은 어떻게 움직일까요?

# %%
step_model = copy.deepcopy(tour_model).train()  # tour_model은 그대로 두고 복사본을 학습합니다
step_optimizer = torch.optim.Adam(step_model.parameters(), lr=CONFIG.lr,
                                  weight_decay=CONFIG.weight_decay)
step_users, step_inputs, step_targets = SequenceDataset(
    data.splits["train"], CONFIG.max_seq_length)[torch.arange(16)]
torch.manual_seed(CONFIG.seed)  # 드롭아웃과 이웃 샘플링의 난수
print(f"아무것도 배우지 않았을 때의 main: ln({data.num_items - 1:,}) = {math.log(data.num_items - 1):.4f}")
for step in range(1, 4):
    main, gcl, mmd = rt.train_step(step_model, step_optimizer, step_users, step_inputs,
                                   step_targets)
    print(f"스텝 {step}: main {main:.4f} | gcl {gcl:.4f} | mmd {mmd:.4f}")

# %% [markdown] key="exercise_4_note"
# **눈여겨볼 점.** 세 스텝은 모두 같은 16개 샘플을 보므로 main이 스텝마다 내려갑니다. 이 배치의 정답
# 아이템들의 점수가 올라가기 때문입니다. 다른 배치에서도 내려간다는 보장은 없습니다. 그래서 6절에서는
# 배치마다 다른 샘플을 보고, 7절에서는 학습에 쓰지 않은 테스트 분할로 평가합니다. gcl은 아무것도 배우지
# 않았을 때의 값 $2\ln(2B - 1)$ ($B = 16$에서 약 6.87) 근처에서 거의 움직이지 않습니다. 드롭아웃과 이웃 샘플링 때문에 같은 배치라도
# 스텝마다 입력이 조금씩 달라, 손실이 고르게 내려가지 않을 수 있습니다.

# %% [markdown] key="tour_evaluation"
# ### ⑧ 평가: 점수, 이미 본 아이템 가리기, 추천 목록
#
# 7절의 `run.test`는 테스트 사용자마다 모든 아이템의 점수를 매기고(전체 랭킹), 이미 본 아이템을 가린 뒤,
# 점수가 큰 순서로 상위 20개를 추천 목록으로 뽑아 여러분의 지표로 채점합니다. 그 앞부분을 읽기용으로 다시
# 쓴 것이 아래 함수들입니다. `history`는 사용자 × 아이템 행렬로, 사용자가 입력에서 본 아이템에 표시가 있습니다
# (테스트에서는 마지막 아이템을 뺀 시퀀스, 즉 `data.test_history`).

# %%
for function in (rt.item_scores, rt.mask_seen, rt.top_k, rt.rank_batch):
    show(function)

# %% [markdown] key="exercise_5"
# #### 연습 5. 가린 아이템은 추천 목록의 어디로 갈까?
#
# 먼저 손으로 만든 점수로 봅니다. 아이템은 0(패딩)부터 5까지이고, 사용자는 아이템 2와 4를 이미 봤습니다.
#
# | 아이템 | 0 (패딩) | 1 | 2 (봄) | 3 | 4 (봄) | 5 |
# |---|---|---|---|---|---|---|
# | 점수 | $-\infty$ | 0.3 | 2.0 | −0.5 | 1.2 | −1.0 |
#
# **예측해 보세요.** 본 아이템의 점수를 $-\infty$로 바꾸면 상위 3개는 무엇일까요? 원본 과제 코드처럼 0으로
# 바꾸면요? 이어서 연습용 사용자 4명의 실제 추천 목록에서도 확인합니다. 가리기 전이라면 각 사용자가 본
# 아이템 중 가장 높은 것은 몇 위였을까요?

# %%
hand_scores = torch.tensor([[-math.inf, 0.3, 2.0, -0.5, 1.2, -1.0]])
hand_history = csr_matrix(([1.0, 1.0], ([0, 0], [2, 4])), shape=(1, 6))  # 사용자 0이 본 아이템 2, 4
hand_user = torch.tensor([0])
print("가리기 전 상위 3개      :", rt.top_k(hand_scores, 3).tolist()[0])
hand_masked = rt.mask_seen(hand_scores, hand_history, hand_user)
print("-inf로 가린 점수        :", [round(score, 2) for score in hand_masked.tolist()[0]])
print("-inf로 가린 뒤 상위 3개 :", rt.top_k(hand_masked, 3).tolist()[0])
hand_zero = engine_trainer.mask_seen(hand_scores.clone(), hand_history, hand_user, legacy=True)
print("0으로 바꾼 뒤 상위 3개  :", rt.top_k(hand_zero, 3).tolist()[0], "(원본 과제 코드의 방식)")

ex_lists = rt.rank_batch(tour_model, ex_users, ex_inputs, data.test_history, 10,
                         torch.Generator().manual_seed(CONFIG.seed))
with torch.no_grad():
    ex_scores = rt.item_scores(tour_model, rm.encode(
        tour_model, ex_users, ex_inputs, torch.Generator().manual_seed(CONFIG.seed))[0])
ex_seen = torch.from_numpy(data.test_history[ex_users.numpy()].toarray() != 0)
print()
for row, user in enumerate(ex_users.tolist()):
    best_seen = ex_scores[row, ex_seen[row]].max()
    rank_before = int((ex_scores[row] > best_seen).sum()) + 1
    in_list = ex_seen[row, ex_lists[row]].sum().item()
    print(f"사용자 {user:>4}: 본 아이템 {int(ex_seen[row].sum()):>2}개, 가리기 전 그중 최고 순위 "
          f"{rank_before:>6,}위 | 추천 목록 상위 10개 {ex_lists[row].tolist()} (본 아이템 {in_list}개)")

# %% [markdown] key="exercise_5_note"
# **눈여겨볼 점.** $-\infty$로 가린 아이템은 어떤 점수보다도 작으므로 목록의 맨 끝으로 가고, 추천 목록에는
# 들어오지 않습니다. 0으로 바꾸면 점수가 음수인 아이템보다 위에 놓여서, 손 예제에서는 본 아이템 2와 4가 다시
# 상위 3개에 들어옵니다. 실제 모델에서도 점수가 음수인 아이템은 흔합니다(학습 전에는 약 절반). 엔진은
# $-\infty$로 가리고, 패딩 아이템 0도 순위에서 뺍니다 (8절). 원본 과제 코드도 평가는 사용자가 *새로* 고를
# 아이템을 맞히는 문제로 보고 이미 본 아이템을 후보에서 빼려 했습니다. 다만 0으로 바꾸는 방식이 그 의도를
# 다 이루지 못했습니다.

# %% [markdown] key="tour_engine_calls"
# ### ⑨ 6절과 7절에서 부르는 것
#
# 6절과 7절은 여기서 읽은 코드를 엔진의 학습기(`run.trainer`)로 빠르게 돌립니다. 읽기용 함수와 같은 값을
# 낸다는 것은 키트의 테스트가 같은 시드로 확인합니다.
#
# | 읽기용 (`rt`) | 엔진 | 노트북에서 부르는 곳 |
# |---|---|---|
# | `train_step` | `Trainer.train_step` | 6절 `run.train_epoch`: 섞은 학습 분할의 배치마다 한 번 |
# | `item_scores`, `mask_seen`, `top_k` | `GCL4SR.score_items`, `mask_seen`, `torch.topk` | 7절 `run.test` |
# | `rank_batch` | `Trainer.rank` | 7절 `run.test`: 테스트 사용자 2,048명씩, 시드를 고정한 이웃 샘플링 |
#
# `run.test`는 그렇게 뽑은 추천 목록과 정답을 여러분의 `recall_at_k`, `ndcg_at_k`에 넘겨 지표를 계산합니다.

# %% [markdown] key="training_intro"
# ## 6. 한 epoch 학습: 여러분의 MMD로
#
# 이제 부품을 모두 끼웁니다. 엔진의 `GCL4SR` 모델은 5절에서 읽은 그대로 동작합니다.
#
# 1. **지역 표현**: 아이템 임베딩 → 2층 Transformer (인과 마스크: 미래 아이템은 보지 않음).
# 2. **전역 뷰**: 시퀀스의 각 아이템에서 WITG 이웃을 두 홉까지 (홉마다 최대 20개) 뽑아 GCN과
#    GraphSAGE로 인코딩합니다. 이웃을 두 번 뽑아 두 전역 뷰 $H'$, $H''$를 만듭니다.
# 3. **사용자별 게이트**: 사용자 임베딩에 따라 전역 뷰를 얼마나 쓸지 조절합니다 (게이트 뷰 $Q'$, $Q''$).
# 4. 세 표현을 합쳐 위치별 어텐션으로 시퀀스 벡터를 만들고, 모든 아이템과 내적해 다음 아이템 점수를 냅니다.
#
# 손실은 $\mathcal{L} = \mathcal{L}_{\text{main}} + \lambda_1 \mathcal{L}_{\text{GCL}} + \lambda_2 \mathcal{L}_{\text{MMD}}$
# ($\lambda_1 = 1$, $\lambda_2 = 0.1$)입니다. main은 전체 아이템에 대한 교차 엔트로피(예측 손실), GCL은
# 두 전역 뷰 사이의 대조 손실입니다. MMD는 4절의 '논문 vs 코드'에서 본 두 값(사영한 아이템 임베딩과 사영한
# 게이트 뷰)을 여러분의 함수로 비교합니다 (`start_course(..., MMD_loss, ...)`로 넘깁니다).
#
# 하이퍼파라미터는 원본 과제와 같습니다 (batch 2048, seed 2026, Adam lr 1e-3, weight decay 5e-5).
# 결과를 기준값과 비교하려면 **바꾸지 마세요**. 걸리는 시간은 0절의 실행 모드 설명에 있습니다.

# %%
print(CONFIG)
# CONFIG.seed로 시드를 다시 고정하고 모델을 초기화한 뒤, 학습기와 학습·테스트 데이터 로더를 만듭니다
run = start_course(data, global_graph, MMD_loss, CONFIG, device=DEVICE, progress=not MODE.grading,
                   train_batch_size=MODE.batch_size)  # 채점 중에만 작은 배치
batches = len(run.train_loader)
steps = MODE.max_batches or batches
print(f"학습 배치 {batches}개 중 {min(steps, batches)}개를 학습합니다 ({MODE.describe()})")

start = time.perf_counter()
epoch_result = run.train_epoch(epoch=0, max_batches=MODE.max_batches)
losses = epoch_result.averages
print(f"학습 {time.perf_counter() - start:.1f}초. epoch 평균 손실: main {losses[0]:.4f}, "
      f"gcl {losses[1]:.4f}, mmd {losses[2]:.4f}")

# %%
no_learning = {"main": math.log(data.num_items - 1), "gcl": 2 * math.log(2 * CONFIG.batch_size - 1)}
plots.plot_losses(epoch_result.history, baselines=no_learning);

# %% [markdown] key="losses_note"
# 빨간 점선은 **아무것도 배우지 않았을 때**의 값입니다. main은 모든 아이템에 같은 확률을 줄 때의
# $\ln(\text{아이템 수})$, GCL은 두 뷰가 서로를 전혀 알아보지 못할 때의 $2\ln(2B - 1)$입니다.
# 곡선이 이 선 아래로 얼마나 내려갔는지가 한 epoch 동안 배운 양입니다.
#
# ### 손실 점검: 무엇이 하드웨어에 따라 달라지나
#
# 같은 코드, 같은 시드라도 **기계가 바뀌면 숫자가 조금 달라집니다.**
#
# - 이웃 샘플링과 드롭아웃은 장치의 난수 생성기를 씁니다. CUDA·MPS의 생성기는 같은 시드에서도 CPU와
#   다른 난수를 내므로, GPU에서 돌리면 사실상 다른 시드로 돌리는 것과 같습니다.
# - 부동소수점 덧셈의 순서(스레드 수, BLAS 라이브러리, GPU 커널)에 따라 마지막 자릿수가 달라지고,
#   그 차이가 학습 스텝마다 쌓입니다.
#
# 그래서 점검은 고정된 숫자와 $10^{-3}$ 상대 오차로 비교하지 않습니다 (원본 과제의 방식은 다른 기계의
# 올바른 코드도 불일치로 판정했습니다). 기계가 바뀌어 생기는 차이는 위의 두 가지, 즉 시드를 바꾼 것과
# 같은 변화(난수)와, 쌓여도 그보다 크지 않은 변화(덧셈 순서)입니다. 따라서 참조 답안으로 **여러 시드**를
# 돌려 잰 편차를 허용 오차로 씁니다. 기준값, 허용 오차, 그 출처는 점검 출력에 함께 표시됩니다.
# 이 점검은 점수에 들어가지 않습니다.

# %%
check_losses(losses, MODE.run_reference, data=data);

# %% [markdown] key="evaluation_intro"
# ## 7. 평가: 여러분의 지표로
#
# 테스트 분할의 모든 사용자에 대해 전체 아이템의 점수를 매기고, 이미 본 아이템(`seq[:-1]`)을 제외한 상위
# 20개를 뽑아 **여러분의** `recall_at_k`, `ndcg_at_k`로 채점합니다. 평가 때의 이웃 샘플링은 시드를
# 고정한 난수 생성기를 쓰므로 같은 모델이면 몇 번을 돌려도 같은 값이 나옵니다.

# %%
start = time.perf_counter()
metrics = run.test(recall_at_k, ndcg_at_k)
print(f"평가 {time.perf_counter() - start:.1f}초 (사용자 {len(data.splits['test']):,}명)")
for name, value in metrics.items():
    print(f"  {name:>9}: {value:.4f}")
check_eval(metrics, MODE.run_reference, data=data);

# %% [markdown] key="checkpoint_intro"
# ### 체크포인트 저장과 다시 불러오기
#
# 원본 과제처럼 학습한 모델의 파라미터(`state_dict`)를 파일에 저장하고, 새로 초기화한 모델에 다시 불러와
# 평가해 봅시다. 저장할 것이 모두 `state_dict`에 들어 있고 평가의 이웃 샘플링은 시드를 고정했으므로,
# 다시 불러온 모델은 위와 똑같은 지표를 내야 합니다.

# %%
checkpoint_file = Path(tempfile.mkdtemp(prefix="gcl4sr_")) / "checkpoint.pth"
torch.save(run.trainer.model.state_dict(), checkpoint_file)
reloaded = start_course(data, global_graph, MMD_loss, CONFIG, device=DEVICE, progress=False)
reloaded.trainer.model.load_state_dict(torch.load(checkpoint_file, map_location=DEVICE))
reloaded_metrics = reloaded.test(recall_at_k, ndcg_at_k)  # 새로 초기화한 모델에 불러와 평가
print(f"저장: 임시 폴더의 {checkpoint_file.name} ({checkpoint_file.stat().st_size / 2**20:.1f} MiB, "
      "경로는 checkpoint_file)")
for name, value in reloaded_metrics.items():
    print(f"  {name:>9}: 다시 불러온 모델 {value:.4f} | 학습 직후 {metrics[name]:.4f}")
print("지표가 모두 같습니다 ✅" if reloaded_metrics == metrics else "지표가 다릅니다 ❌")

# %% [markdown] key="baselines_intro"
# ### 얼마나 잘한 걸까: 가장 인기 있는 아이템 추천, 그리고 논문의 숫자
#
# 비교 기준 두 가지를 같은 평가 방식으로 놓아 봅니다.
#
# - **MostPop**: 모든 사용자에게 (이미 본 것을 빼고) 가장 많이 소비된 아이템을 추천하는 가장 단순한 방법.
#   점수는 역시 여러분의 지표 함수로 계산합니다. 추천 목록이 정해져 있으므로, 같은 목록을 참조 지표로
#   채점한 기준값과 맞는지도 점검합니다.
# - **논문 Table 2** (Home, 완전히 학습한 모델, 전체 랭킹). 데이터셋에 논문 수치가 있을 때만 나옵니다.

# %%
pop_actual, pop_predicted = baselines.most_popular_ranking(data, topk=20)
most_popular = {f"Recall@{k}": recall_at_k(pop_actual, pop_predicted, k) for k in (10, 20)}
most_popular.update({f"NDCG@{k}": ndcg_at_k(pop_actual, pop_predicted, k) for k in (10, 20)})
check_popularity(most_popular, MODE.name, data=data)  # 여러분의 지표로 잰 MostPop을 기준값과 비교
# 행 이름은 그래프의 범례와 같습니다 (한글 글꼴이 없으면 둘 다 영어)
rows = {plots.label("ours"): metrics, plots.label("mostpop"): most_popular}
rows.update({plots.label("paper", name=name): values
             for name, values in data.dataset.paper.items()})

print(plots.metric_table(rows, data.dataset.name))
if not data.dataset.paper:
    print(f"\n({data.dataset.name} 데이터셋에는 논문 수치가 없어 MostPop과만 비교합니다.)")
elif MODE.quick:
    print("\n(quick 모드: 사용자 2,000명 부분집합이라 논문의 숫자와 직접 비교할 수 없습니다.)")
plots.plot_metric_comparison(rows, data.dataset.name);

# %% [markdown] key="why_far"
# ### 한 epoch은 왜 논문과 이렇게 멀까
#
# full 모드에서 한 epoch 뒤의 지표는 MostPop과 비슷하거나 오히려 조금 낮고, 논문의 GCL4SR보다 몇 배
# 낮습니다. 구현이 틀려서가 아닙니다.
#
# - **학습량**: 한 epoch은 배치 2048로 172번의 업데이트입니다. 논문의 설정은 배치 1024라서 한 epoch만
#   봐도 업데이트가 두 배이고, 검증 NDCG@20이 10 epoch 연속 나아지지 않을 때까지(early stopping)
#   여러 epoch을 학습하므로 전체 업데이트 수는 그보다 훨씬 많습니다.
# - **임베딩**: 아이템이 약 28,000개인데 학습 샘플은 352,125개라서 아이템 하나가 정답으로 나오는 횟수는
#   평균 12번 남짓입니다. 한 번 훑어서는 아이템 임베딩이 거의 움직이지 않습니다. main 손실이 $\ln(28{,}237) \approx 10.25$에서
#   조금밖에 내려가지 않는 것도 그 때문입니다.
# - **무엇을 먼저 배우나**: 학습 초반의 모델은 아이템별 편향, 즉 *인기*부터 배웁니다. 그래서 한 epoch
#   모델이 MostPop과 비슷한 것은 자연스럽습니다. 순서와 그래프 문맥을 활용하는 이득은 그 다음에 나타납니다.
# - 논문은 학습률 스케줄(StepLR)과 검증 기반 모델 선택도 씁니다.
#
# 그렇다면 조금 더 학습하면 어떻게 될까요? 바로 아래에서 확인합니다.

# %% [markdown] key="more_training"
# ### (선택) 조금 더 학습하면: 인기 순위를 넘어서는 순간
#
# 키트가 같은 수업 설정(배치 2048, 같은 시드, 참조 답안)으로 학습을 이어 가며 epoch의 4분의 1마다 테스트
# 지표를 잰 결과가 아래 왼쪽 두 그래프입니다. 가로축은 2코어 컴퓨터에서 학습에만 쓴 시간(분)입니다. 오른쪽
# 그래프는 배치 1024로 수십 epoch을 끝까지 학습한 모델과, 부품을 하나씩 뺀 두 변형(ablation)의 검증
# NDCG@20입니다.
#
# **예측해 보기**: 두 보조 손실을 끄면(λ1 = λ2 = 0) 오른쪽 곡선은 GCL4SR보다 위에 놓일까요, 아래에
# 놓일까요? WITG의 가중치를 모두 1로 바꾸면요? 그래프를 보기 전에 적어 두세요.

# %%
kit_results = data.dataset.lesson()  # 키트가 Home에서 잰 결과 (다른 데이터셋에는 없습니다)
if kit_results is None:
    print(f"{data.dataset.name} 데이터셋에는 키트가 잰 학습 곡선이 없습니다.")
else:
    course_curve = kit_results["course_run"]
    win = next(p for p in course_curve["points"]
               if all(p["test"][m] > course_curve["mostpop"][m] for m in ("Recall@20", "NDCG@20")))
    print(f"수업 설정은 {win['epoch']:g} epoch, 학습 {win['minutes']:.1f}분 만에 두 지표 모두 MostPop을 "
          f"넘었습니다 ({course_curve['machine']}).")
    plots.plot_lesson(kit_results);

# %% [markdown] key="more_training_note"
# 눈여겨볼 점:
#
# - 첫 epoch 동안 지표는 거의 제자리입니다. 모델이 인기부터 배우는 동안은 MostPop과 비슷한 추천을
#   내기 때문입니다. 두 번째 epoch에 들어서 순서와 그래프 문맥을 쓰기 시작하면 MostPop을 넘어섭니다.
# - 오른쪽에서 두 보조 손실을 끈 변형이 가장 느리게 올라갑니다. 대조 학습과 MMD가 같은 epoch 수에서
#   더 나은 표현을 만든다는 뜻입니다. 가중치 없는 WITG와의 차이는 그보다 작습니다.
#
# **직접 해 보기 (선택).** `MORE_EPOCHS`를 1이나 2로 바꾸고 실행하면, 위에서 학습한 모델(`run`)이 같은
# 옵티마이저로 학습을 이어 가며 epoch마다 **검증** 지표를 잽니다. 몇 epoch을 학습할지는 검증 데이터를 보고
# 정합니다. 테스트 지표를 보고 고르면 테스트 데이터에 맞춘 셈이 되기 때문입니다. full 모드에서 epoch
# 하나는 2코어 노트북 컴퓨터로 4분 남짓 걸립니다. 채점할 때는 실행되지 않습니다.

# %%
MORE_EPOCHS = 0  # 0이면 건너뜁니다

if MORE_EPOCHS > 0 and not MODE.grading:
    valid_mostpop = score_ranking(
        *baselines.most_popular_ranking(data, topk=20, split="valid"), recall_at_k, ndcg_at_k)
    curve = [{"epoch": 1, **run.validate(recall_at_k, ndcg_at_k)}]
    for epoch in range(2, MORE_EPOCHS + 2):
        run.train_epoch(epoch)  # 같은 모델, 같은 옵티마이저로 한 epoch 더
        curve.append({"epoch": epoch, **run.validate(recall_at_k, ndcg_at_k)})
        print(f"epoch {epoch}: 검증 Recall@20 {curve[-1]['Recall@20']:.4f}, "
              f"NDCG@20 {curve[-1]['NDCG@20']:.4f}")
    print(f"MostPop: 검증 Recall@20 {valid_mostpop['Recall@20']:.4f}, "
          f"NDCG@20 {valid_mostpop['NDCG@20']:.4f}")
    plots.plot_validation_curve(curve, valid_mostpop);

# %% [markdown] key="ablation_intro"
# **변형 하나 직접 돌려 보기 (선택).** `ABLATION`을 `"보조 손실 없이"`나 `"가중치 없는 WITG"`로 바꾸면
# 새 모델을 같은 시드로 한 epoch 학습하고 테스트 지표를 위의 GCL4SR과 나란히 보여 줍니다. 한 epoch으로는
# 차이가 작습니다. 예측과 같은 방향인가요?

# %%
ABLATION = None  # None, "보조 손실 없이" (λ1 = λ2 = 0), "가중치 없는 WITG" (모든 가중치 1)

if ABLATION is not None and not MODE.grading:
    ablated_config = replace(CONFIG, lam1=0.0, lam2=0.0) if ABLATION == "보조 손실 없이" else CONFIG
    ablated_graph = global_graph if ABLATION == "보조 손실 없이" else Data(
        x=global_graph.x, edge_index=global_graph.edge_index,
        edge_attr=torch.ones_like(global_graph.edge_attr))
    ablated = start_course(data, ablated_graph, MMD_loss, ablated_config, device=DEVICE,
                           progress=True)
    ablated.train_epoch(0)
    ablated_metrics = ablated.test(recall_at_k, ndcg_at_k)
    for name in ("Recall@20", "NDCG@20"):
        print(f"{name}: GCL4SR {metrics[name]:.4f}, {ABLATION} {ablated_metrics[name]:.4f}")

# %% [markdown] key="engine_changes"
# ## 8. 엔진이 바꾼 것: 원본 과제 코드와의 차이
#
# 엔진은 원본 과제 코드와 같은 모델을 계산하지만, 원본 코드의 결함을 기본으로 고쳐 두었습니다.
#
# - **게이트 벡터**: 원본은 사용자별 게이트의 두 벡터를 평범한 텐서로 두어, 학습되지도 저장되지도
#   않았습니다. 체크포인트를 다시 불러오면 게이트가 달라졌습니다. 엔진은 학습하는 파라미터로 두고
#   `state_dict`에 저장합니다. 7절에서 다시 불러온 모델이 같은 지표를 낸 것도 그 덕분입니다.
# - **GNN의 두 홉**: 원본은 홉마다 원래의 임베딩에서 다시 시작해 바깥 홉의 결과를 버렸으므로, 실제로는
#   1-hop만 쓰였습니다. 엔진은 두 홉을 차례로 쌓습니다.
# - **초기화**: 원본은 모듈마다 모든 파라미터를 균등분포로 다시 덮어써서, LayerNorm의 가중치와 패딩
#   임베딩까지 모두 균등분포가 되었습니다. 엔진은 임베딩과 선형층에 Xavier 초기화를 쓰고, LayerNorm은
#   1로, 패딩 임베딩은 0으로 둡니다.
# - **평가**: 원본은 이미 본 아이템의 점수를 0으로 바꿔서, 점수가 음수인 아이템보다 위에 올 수 있었습니다.
#   패딩 아이템 0도 순위에 넣었고, 이웃은 평가할 때마다 다르게 뽑았습니다. 엔진은 본 아이템과 패딩을
#   순위에서 빼고, 시드를 고정해 같은 모델이면 언제나 같은 값을 냅니다.
# - **두 증강 뷰**: 원본이 쓰던 `torch-sparse`는 호출할 때마다 난수 시드를 현재 시각(초 단위)으로 다시
#   정합니다. 그래서 같은 1초 안에 뽑힌 두 뷰는 똑같았고, 대조 학습이 자기 자신과 비교하는 일이 잦았습니다.
#   엔진은 두 뷰를 독립적으로 뽑습니다.
# - 그 밖에 NaN, 배치 크기 1, 메모리(MMD의 `[2B, 2B, 50]` 텐서), `torch-sparse` 설치 문제를 고쳤습니다.
#
# 그래서 한 epoch 뒤의 숫자도 원본과 다릅니다. 고친 모델은 두 홉 사이의 드롭아웃 때문에 두 뷰가 더 달라
# GCL 손실이 천천히 내려가고, Xavier로 초기화한 임베딩이 작게 시작해서 한 epoch 뒤의 지표가 원본보다 조금
# 낮습니다. 끝까지 학습하면 16번째 epoch부터는 고친 모델이 원본의 동작보다 앞섭니다(검증 NDCG@20).
# `CourseConfig(legacy=True)`로 모델을 만들면 엔진이 원본의 동작(게이트, 홉, 초기화, 평가)을 되살리므로
# 두 모델을 나란히 비교할 수 있습니다. 결함의 전체 목록과 각각을 고친 방법은 엔진 모듈의 설명(영문)에
# 있습니다. 새 셀에서 `from gcl4sr_helpers import model; print(model.__doc__)`을 실행해 보세요.

# %% [markdown] key="summary"
# ## 마무리
#
# - **WITG**: 모든 사용자의 전이를 거리에 반비례하는 가중치로 모은 무방향 그래프를 만들었습니다.
# - **Recall@k / NDCG@k**: 전체 랭킹 평가에서 적중 여부와 적중 순위를 재는 지표를 구현했습니다.
#   이번 평가처럼 정답이 하나면 Recall@k는 상위 $k$개 안에 들었는지를, NDCG@k는 몇 등에 들었는지를 봅니다
#   (IDCG = 1). 정답이 여러 개이거나 빈 사용자가 있는 평가에서는 IDCG를 $\min(k, |T_u|)$개로 채우는
#   규칙과 빈 사용자를 건너뛰는 규칙이 값을 정합니다.
# - **MMD**: 커널 행렬의 네 블록으로 두 분포의 거리를 재고, 여러 대역폭으로 그 거리를 안정적으로 만들었습니다.
# - **(선택) 대조 손실**: 채웠다면, 두 뷰를 붙인 유사도 행렬에서 자기 자신을 빼고 양성 쌍을 고르는 NT-Xent를
#   직접 만들었습니다.
# - **모델**: 읽기용 모델로 GCL4SR의 부품을 논문의 순서대로 읽고, 엔진과 같은 손실을 내는 것을 확인했습니다.
#
# 제출 전에 *Kernel → Restart Kernel and Run All Cells*로 처음부터 끝까지 오류 없이 도는지 확인하세요.

# %% [markdown] key="references"
# ## 참고 문헌
#
# - **GCL4SR**: Y. Zhang, Y. Liu, Y. Xu, H. Xiong, C. Lei, W. He, L. Cui, C. Miao. *Enhancing Sequential
#   Recommendation with Graph Contrastive Learning.* IJCAI 2022.
#   [논문](https://www.ijcai.org/proceedings/2022/0333), [arXiv:2205.14837](https://arxiv.org/abs/2205.14837).
#   이 노트북이 구현하는 모델입니다.
# - **SASRec**: W.-C. Kang, J. McAuley. *Self-Attentive Sequential Recommendation.* ICDM 2018.
#   [arXiv:1808.09781](https://arxiv.org/abs/1808.09781). 지역 표현을 만드는 시퀀스 인코더의 바탕입니다.
# - **SGL**: J. Wu, X. Wang, F. Feng, X. He, L. Chen, J. Lian, X. Xie. *Self-supervised Graph Learning for
#   Recommendation.* SIGIR 2021. [arXiv:2010.10783](https://arxiv.org/abs/2010.10783). 그래프를 증강해 두 뷰를
#   만들고 대조 학습하는 추천 모델입니다.
# - **SimCLR (NT-Xent)**: T. Chen, S. Kornblith, M. Norouzi, G. Hinton. *A Simple Framework for Contrastive
#   Learning of Visual Representations.* ICML 2020. [arXiv:2002.05709](https://arxiv.org/abs/2002.05709).
#   대조 손실 NT-Xent의 출처입니다.
# - **MMD**: A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf, A. Smola. *A Kernel Two-Sample Test.*
#   JMLR 13, 2012. [논문](https://jmlr.org/papers/v13/gretton12a.html). 4절의 MMD와 커널 추정량입니다.
# - **GraphSAGE**: W. L. Hamilton, R. Ying, J. Leskovec. *Inductive Representation Learning on Large Graphs.*
#   NeurIPS 2017. [arXiv:1706.02216](https://arxiv.org/abs/1706.02216). 이웃 샘플링과 전역 뷰의 GNN 층입니다.
# - **GCN**: T. N. Kipf, M. Welling. *Semi-Supervised Classification with Graph Convolutional Networks.*
#   ICLR 2017. [arXiv:1609.02907](https://arxiv.org/abs/1609.02907). WITG의 가중치를 쓰는 GNN 층입니다.
# - **전체 랭킹 평가**: W. Krichene, S. Rendle. *On Sampled Metrics for Item Recommendation.* KDD 2020.
#   [DOI](https://doi.org/10.1145/3394486.3403226). 후보 아이템을 일부만 샘플링해 잰 지표는 전체 랭킹의 지표와
#   순서까지 달라질 수 있음을 보였습니다. 이 노트북이 모든 아이템에 점수를 매겨 평가하는 이유입니다.
# - **데이터**: J. McAuley, C. Targett, Q. Shi, A. van den Hengel. *Image-based Recommendations on Styles
#   and Substitutes.* SIGIR 2015. [arXiv:1506.04757](https://arxiv.org/abs/1506.04757). Amazon 리뷰 데이터의
#   출처입니다.
