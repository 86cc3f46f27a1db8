"""The command line's refusals, in process: one `error:` line and the contract's exit code
for a usage error, an expected failure or an address that cannot be listened on."""

from __future__ import annotations

import socket
from typing import Annotated

import pytest
import typer

from application.errors import MigrationError, StorageUnavailable
from domain.errors import ValidationFailed
from entrypoints.cli.errors import fail, readable_errors, run_command_line
from entrypoints.cli.listen import cannot_listen


def a_cli() -> typer.Typer:
    app = typer.Typer(name="keel", no_args_is_help=True, add_completion=False)

    @app.command()
    def serve(port: Annotated[int, typer.Option(min=1, max=65535)] = 8000) -> None:
        typer.echo(f"serving on {port}")

    @app.command()
    def refuse() -> None:
        raise fail("no, and here is why", 3)

    @app.command()
    def interrupted() -> None:
        raise typer.Abort()

    return app


def run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.argv", ["keel", *args])
    with pytest.raises(SystemExit) as exited:
        run_command_line(a_cli())
    code = exited.value.code
    assert isinstance(code, int)
    return code


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--port", "0"], "'--port'"),
        (["serve", "--port", "x"], "'--port'"),
        (["serve", "--nope"], "--nope"),
        (["nosuch"], "nosuch"),
    ],
)
def test_a_usage_error_is_one_error_line_and_exit_2(
    args: list[str],
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(args, monkeypatch) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("error: ")
    assert fragment in line
    assert "--help" in line


def test_success_a_chosen_exit_code_and_an_abort(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["serve", "--port", "8001"], monkeypatch) == 0
    assert capsys.readouterr().out == "serving on 8001\n"
    assert run(["refuse"], monkeypatch) == 3
    assert capsys.readouterr().err == "error: no, and here is why\n"
    assert run(["interrupted"], monkeypatch) == 1
    assert capsys.readouterr().err == "error: aborted\n"


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (ValidationFailed("email", "is not valid"), "error: email: is not valid"),
        (StorageUnavailable("cannot use the database"), "error: cannot use the database"),
        (MigrationError("behind"), "error: behind"),
        (
            FileNotFoundError(2, "No such file or directory", "/x"),
            "error: No such file or directory: /x",
        ),
    ],
)
def test_an_expected_failure_is_one_line_and_exit_1(
    error: Exception, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited, readable_errors():
        raise error
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err == line + "\n"


def test_an_unexpected_failure_is_not_hidden() -> None:
    with pytest.raises(ZeroDivisionError), readable_errors():
        _ = 1 / 0


def test_a_port_in_use_and_an_address_not_of_this_machine_are_named() -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        assert cannot_listen("127.0.0.1", port) == (
            f"cannot listen on 127.0.0.1:{port}: address already in use"
        )
    assert cannot_listen("127.0.0.1", port) is None
    reason = cannot_listen("192.0.2.1", port)
    assert reason is not None
    assert reason.startswith(f"cannot listen on 192.0.2.1:{port}: ")
