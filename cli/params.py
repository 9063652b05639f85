"""Click parameter types that more than one command takes."""

import click

from kgan.formats.run_folder import BEST

AUTO = "auto"


class CountOrWord(click.ParamType):
    """An integer >= 1, or one word that stands for a choice kgan makes.

    Args:
        word: the word (`best`, `auto`).
        noun: what the integer counts, with its article, for the error message.
    """

    def __init__(self, word, noun):
        self.word, self.noun = word, noun
        self.name = noun.split()[-1]  # the help's metavar: EPOCH, EPOCHS

    def convert(self, value, param, ctx):
        if value == self.word or isinstance(value, int):
            return value
        if str(value).isdigit() and int(value) >= 1:
            return int(value)
        self.fail(f"{value!r} is neither {self.noun} (an integer >= 1) nor {self.word}", param, ctx)


EPOCH = CountOrWord(BEST, "an epoch")
EPOCH_HELP = ("The generator of this epoch, kept by `kgan train --keep-every`, or `best`, the one kept by "
              "`kgan train --metric NAME --keep-best` (default: the last generator, generator.keras).")

CLASSIFIER_EPOCHS = CountOrWord(AUTO, "a number of epochs")
