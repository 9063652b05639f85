"""Click parameter types that more than one command takes."""

import click

from kgan.formats.run_folder import BEST


class EpochType(click.ParamType):
    """`--epoch`: a run folder's generator of an epoch kept by `--keep-every` (an integer >= 1), or `best`."""

    name = "epoch"

    def convert(self, value, param, ctx):
        if value == BEST or isinstance(value, int):
            return value
        if str(value).isdigit() and int(value) >= 1:
            return int(value)
        self.fail(f"{value!r} is neither an epoch (an integer >= 1) nor {BEST}", param, ctx)


EPOCH = EpochType()
EPOCH_HELP = ("The generator of this epoch, kept by `kgan train --keep-every`, or `best`, the one kept by "
              "`kgan train --metric NAME --keep-best` (default: the last generator, generator.keras).")
