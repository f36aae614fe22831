"""A torchrun worker for tests/test_engine/test_cluster_restarts.py: joins the
process group with hrformer_mm.engine.launch.init_distributed (gloo), runs
one all-reduce, and in restart round 0 rank 1 dies after it (a lost
worker).  In round 1 rank 1 joins only after rank 0 has (the file
``$READY_FILE`` says when, plus 2 s), so rank 0 reads rank 1's key in
torchrun's store before the new rank 1 writes it: the dead rank's address
unless the rounds keep their keys apart."""
import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
from hrformer_mm.engine.launch import init_distributed  # noqa: E402

rank = int(os.environ['RANK'])
round_ = int(os.environ['TORCHELASTIC_RESTART_COUNT'])
ready = f'{os.environ["READY_FILE"]}.{round_}'
if round_ > 0 and rank == 1:
    deadline = time.time() + 60
    while not os.path.exists(ready) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(2)
if rank == 0:
    open(ready, 'w').close()
init_distributed('gloo', timeout=60)
total = torch.ones(1)
dist.all_reduce(total)
print(f'round {round_} rank {rank}: all_reduce {int(total.item())}',
      flush=True)
if round_ == 0 and rank == 1:
    os._exit(9)
dist.barrier()
dist.destroy_process_group()
