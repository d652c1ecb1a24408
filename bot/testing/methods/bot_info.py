"""The bot itself: getMe, logOut/close, commands and profile texts."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from bot.testing.errors import bad_request
from bot.testing.methods.base import ApiRequest, Handler

__all__ = ["METHODS"]

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def get_me(request: ApiRequest) -> dict[str, Any]:
    return {
        **request.state.bot_user(request.token),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def true(request: ApiRequest) -> bool:
    return True


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def set_my_commands(request: ApiRequest) -> bool:
    commands = request.params.get("commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
            str(command.get("command", ""))
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    request.state.commands[_commands_key(request.params)] = copy.deepcopy(commands)
    return True


def get_my_commands(request: ApiRequest) -> list[dict[str, Any]]:
    return copy.deepcopy(request.state.commands.get(_commands_key(request.params), []))


def delete_my_commands(request: ApiRequest) -> bool:
    request.state.commands.pop(_commands_key(request.params), None)
    return True


def _set_profile(field_name: str) -> Handler:
    def handler(request: ApiRequest) -> bool:
        params = request.params
        key = (field_name, str(params.get("language_code") or params.get("chat_id") or ""))
        request.state.bot_profile[key] = params.get(field_name)
        return True

    return handler


METHODS: dict[str, Handler] = {
    "getme": get_me,
    "logout": true,
    "close": true,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "setmydescription": _set_profile("description"),
    "setmyshortdescription": _set_profile("short_description"),
    "setmyname": _set_profile("name"),
    "setchatmenubutton": _set_profile("menu_button"),
}
