"""User ids from folder names and text shown on a terminal."""

from __future__ import annotations

from pipeline.names import printable, valid_user_id


def test_user_ids_are_plain_names() -> None:
    assert valid_user_id("alice") and valid_user_id("a.b@c-d_e")
    for bad in ["", ".", "..", "a b", "a/b", "x" * 129, "bad\x1b[31m", "é"]:
        assert not valid_user_id(bad), bad


def test_control_characters_are_shown_not_obeyed() -> None:
    assert printable("plain name") == "plain name"
    assert printable("a\x1b[2Jb\rc") == "a\\x1b[2Jb\\x0dc"
    assert printable("evil\u202eftp.pdf") == "evil\\u202eftp.pdf"
    assert printable("two\nlines", keep="\n") == "two\nlines"
    assert printable("no\u00a0break") == "no\u00a0break"  # a space is harmless
