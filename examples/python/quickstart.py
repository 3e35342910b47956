# examples/python/quickstart.py: a code from Python, zero-copy on numpy, two stragglers.
import numpy as np
import gradcode

code = gradcode.cyclic_repetition_code(nodes=6, partitions=6, tolerance=2, dtype=np.float32)
partials = np.random.default_rng(0).standard_normal((6, 100_000), dtype=np.float32)  # K x d
messages = {i: code.encode(i, partials.T) for i in range(6)}  # partials.T: d x K, no copy
ids = [0, 2, 3, 5]  # nodes 1 and 4 straggle
total, report = code.decode(ids, np.stack([messages[i] for i in ids]).T)
error = np.linalg.norm(total - partials.sum(axis=0)) / np.linalg.norm(partials.sum(axis=0))
print(f"decoded from {report.used}, relative error {error:.1e} (estimate {report.estimated_error:.1e})")
assert error < 1e-5
try:
    code.decode([0, 2, 3], np.stack([messages[i] for i in [0, 2, 3]]).T)
except gradcode.NotDecodable as e:
    print("three responders:", e)
