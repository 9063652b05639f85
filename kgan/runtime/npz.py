"""An .npz writer that streams each array in chunks, so memory stays flat for large arrays."""

import zipfile

import numpy as np


class NpzStreamWriter:
    """Writes an .npz archive (readable by numpy.load) one array at a time, chunk by chunk.

    A zip entry is written sequentially, so only one array is open at a time:
    `begin` it with its final shape, `append` chunks along its first axis in order,
    then `begin` the next one or `close`.

    Args:
        path: the .npz file to create.
    """

    def __init__(self, path):
        # Stored, not deflated, like numpy.savez; zip64 because sizes can pass 4 GiB.
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True)
        self._entry = None

    def begin(self, name, shape, dtype):
        """Starts array `name` (saved as `name`.npy) of the given final shape and dtype."""
        self._finish_entry()
        self._dtype = np.dtype(dtype)
        self._shape = tuple(shape)
        self._rows_left = self._shape[0]
        self._entry = self._zip.open(f"{name}.npy", "w", force_zip64=True)
        descr = np.lib.format.dtype_to_descr(self._dtype)
        np.lib.format.write_array_header_1_0(
            self._entry, {"descr": descr, "fortran_order": False, "shape": self._shape}
        )

    def append(self, chunk):
        """Appends rows to the open array; `chunk` must match its dtype and trailing shape."""
        chunk = np.asarray(chunk)
        if chunk.dtype != self._dtype or chunk.shape[1:] != self._shape[1:]:
            raise ValueError(f"chunk {chunk.dtype} {chunk.shape[1:]} does not match {self._dtype} {self._shape[1:]}")
        if len(chunk) > self._rows_left:
            raise ValueError(f"{len(chunk)} rows passed the {self._shape[0]} announced")
        self._entry.write(chunk.tobytes())  # C order, as the header says
        self._rows_left -= len(chunk)

    def close(self):
        """Finishes the open array (it must be complete) and the archive."""
        try:
            self._finish_entry()
        finally:
            self._release()

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        if error_type is None:
            self.close()
        else:
            self._release()  # the archive is incomplete anyway: skip the row check

    def _finish_entry(self):
        if self._entry is None:
            return
        if self._rows_left:
            raise ValueError(f"array is {self._rows_left} rows short of its shape {self._shape}")
        self._entry.close()
        self._entry = None

    def _release(self):
        if self._entry is not None:
            self._entry.close()
            self._entry = None
        self._zip.close()
