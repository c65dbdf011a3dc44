"""A child process killed mid-job, for the resumption tests of the chunked stages."""

from __future__ import annotations


def killing_child(body: str) -> str:
    """A child process's code: ``body``, in a process that SIGKILLs itself once the chunk store
    has saved the chunk numbered by its last argument (the predict and embed stages' store)."""
    return (
        "import os, signal, sys\n"
        "from arxivcat.predict import chunk_store\n"
        "save = chunk_store.ChunkStore.save\n"
        "def killing_save(self, index, table):\n"
        "    save(self, index, table)\n"
        "    if index == int(sys.argv[-1]):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "chunk_store.ChunkStore.save = killing_save\n" + body
    )
