"""``--help`` as click writes it, for the few places where typer's rich help does not.

Typer (0.2x) shows ``<bool>`` after every flag as if it took a value, wraps required
arguments in braces in the usage line (``schoolx task [OPTIONS] {task_id}``) and names a
list's type ``<list[Path]>``. ``restyle`` puts back click's conventions: flags show no
type, a list shows the type of each value, arguments are upper case (``TASK_ID``,
``FILES...``, optional ones in brackets) in the usage line, the table and error messages
alike. The help of every
command is checked by ``tests/unit/test_cli_help.py``.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from typer.core import TyperArgument, TyperOption

_option_type = TyperOption.display_type_rich
_argument_type = TyperArgument.display_type_rich


def _flag_shows_no_type(self: TyperOption, ctx: Any) -> str | None:
    if self.is_flag or self.count:
        return None
    return _each(self) or _option_type(self, ctx)


def _each(self: TyperOption | TyperArgument) -> str | None:
    """A list's type as that of each value (given once per value, or as ``FILES...``)."""
    annotation: Any = self.type_descriptor.annotation
    args = get_args(annotation)
    if get_origin(annotation) is list and len(args) == 1:
        return f"<{self._bare_type(args[0])}>"
    return None


def _argument_name(self: TyperArgument) -> str:
    return self.metavar or (self.name or "").upper()


def _usage_name(self: TyperArgument) -> str:
    name = _argument_name(self)
    if self.nargs != 1:
        name += "..."
    return name if self.required else f"[{name}]"


def _element_type(self: TyperArgument, ctx: Any) -> str | None:
    return _each(self) or _argument_type(self, ctx)


def restyle() -> None:
    TyperOption.display_type_rich = _flag_shows_no_type  # type: ignore[method-assign]
    TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[assignment,method-assign]
    TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
    TyperArgument.display_type_rich = _element_type  # type: ignore[method-assign,assignment]
