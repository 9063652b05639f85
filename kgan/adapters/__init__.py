"""A SampleStream (kgan.runtime.stream) as the data pipeline of a training loop.

- `kgan.adapters.keras_dataset.StreamPyDataset`: a keras.utils.PyDataset for `fit()` (any backend).
- `kgan.adapters.tf_dataset.stream_tf_dataset`: a tf.data.Dataset.
- `kgan.adapters.torch_dataset.StreamIterableDataset`: a torch IterableDataset that shards
  batches across DataLoader workers.

Each module imports its framework only when imported itself; the bare install needs none.
"""
