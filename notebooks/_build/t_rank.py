import time, cchkit, numpy as np
b = cchkit.datasets.load('digits-avt')
rng = np.random.default_rng(0); lab=b['audio'].labels
keep=np.sort(np.concatenate([rng.choice(np.flatnonzero(lab==c),80,replace=False) for c in range(10)]))
b=cchkit.ModalityBundle.from_arrays({m:b[m].data[keep] for m in b.names}, labels=lab[keep])
t=time.time(); r=cchkit.rank_teachers(b,'audio',['image','text'],n_bootstrap=30); print('rank', time.time()-t)
