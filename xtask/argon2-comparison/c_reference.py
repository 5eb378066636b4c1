"""Times the C reference argon2id (argon2-cffi, as the Python service uses it) with the
parameters and inputs of main.rs: alone, then two processes at once.

    python3 -m pip install argon2-cffi && python3 xtask/argon2-comparison/c_reference.py
"""
import multiprocessing
import time

from argon2.low_level import Type, hash_secret_raw

PASSWORD = b"Correct horse battery 9"
SALT = b"saltsaltsaltsalt"
HASHES = 40


def run(_=None):
    for _ in range(HASHES):
        hash_secret_raw(PASSWORD, SALT, 2, 19456, 1, 32, Type.ID)


if __name__ == "__main__":
    out = hash_secret_raw(PASSWORD, SALT, 2, 19456, 1, 32, Type.ID)
    started = time.perf_counter()
    run()
    alone = (time.perf_counter() - started) * 1000 / HASHES
    started = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        pool.map(run, range(2))
    per_second = 2 * HASHES / (time.perf_counter() - started)
    print(f"C reference (argon2-cffi) | {alone:.1f} | {per_second:.1f} | {out.hex()}")
