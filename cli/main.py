"""Entry point of the `kgan` command. Subcommands import heavy libraries lazily."""

import click

import kgan
from cli.errors import OneLineUsageError


class KganGroup(click.Group):
    """A group whose usage errors (bad option values, missing arguments) are one line."""

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            one_line = OneLineUsageError(f"{error.format_message()}{hint}")
            one_line.show()
            raise SystemExit(one_line.exit_code) from None
        except click.ClickException as error:
            error.show()
            raise SystemExit(error.exit_code) from None
        except click.Abort:
            click.echo("Aborted!", err=True)
            raise SystemExit(1) from None


@click.group(cls=KganGroup)
@click.version_option(kgan.__version__, prog_name="kgan")
def cli():
    """Train DCGANs with Keras 3, export them to ONNX, generate labelled images anywhere."""


def _register_commands():
    from cli.evaluate import evaluate
    from cli.export import export
    from cli.generate import generate
    from cli.train import train

    cli.add_command(train)
    cli.add_command(export)
    cli.add_command(generate)
    cli.add_command(evaluate)


_register_commands()
