import time
t0=time.time()
from kgan.config import TrainConfig
from kgan.training.run import start_run
from tests.conftest import TINY
t1=time.time()
start_run(TrainConfig(**TINY), '/tmp/ev/runj', overwrite=True, verbose=0)
print("import", t1-t0, "run", time.time()-t1)
