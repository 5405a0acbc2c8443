"""Landed lines counted on their own, for the checks: a damaged gzip is named, not fatal."""

from __future__ import annotations


def test_landed_lines_are_counted_and_a_damaged_gzip_is_named(tmp_path):
    import gzip

    import pyarrow.fs as pafs

    from recmart.landing.lines import count_records

    body = b"".join(b'{"n": %d}\n' % i for i in range(5000))
    whole = gzip.compress(body)
    bad_crc = bytearray(whole)
    bad_crc[-8] ^= 0xFF  # the trailer's CRC-32
    files = {
        "plain": body + b"{no newline at the end}",
        "two-members.gz": gzip.compress(body) + gzip.compress(b"one more\n"),
        "empty.gz": b"",
        "truncated.gz": whole[: len(whole) // 2],
        "bad-crc.gz": bytes(bad_crc),
    }
    fs = pafs.LocalFileSystem()
    counted = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        counted[name] = count_records(fs, str(tmp_path / name))
    assert counted["plain"] == (5001, None)
    assert counted["two-members.gz"] == (5001, None)
    assert counted["empty.gz"] == (0, None)
    n, why = counted["truncated.gz"]
    assert 0 < n < 5000 and why.startswith("truncated gzip")
    _, why = counted["bad-crc.gz"]
    assert why.startswith("corrupt gzip") and "incorrect data check" in why  # the CRC-32 does not match


def test_lines_end_where_bytes_splitlines_ends_them_on_any_bytes(tmp_path):
    import random

    import pyarrow.fs as pafs

    from recmart.landing.lines import count_records, line_array

    rng = random.Random(7)
    alphabet = [b"\n", b"\r", b"\r\n", b"a", b"\xff", b"\xef\xbb\xbf", b"{}", b" "]
    samples = [b"", b"\n", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b"x", b"x\r\r\n\ny"]
    samples += [b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(300)]
    fs = pafs.LocalFileSystem()
    for n, data in enumerate(samples):
        path = tmp_path / f"f{n}"
        path.write_bytes(data)
        expected = data.splitlines()
        if expected and expected[0].startswith(b"\xef\xbb\xbf"):  # a byte order mark opening the file is dropped
            expected[0] = expected[0][3:]
        lines, damage = line_array(fs, str(path))
        got = [line.rstrip(b"\r\n") for line in lines.to_pylist()]
        assert (got, damage) == (expected, None), data
        assert count_records(fs, str(path)) == (len(expected), None), data
