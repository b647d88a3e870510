"""Stage model_summary: the torchinfo summary of the CNN at batch 32, as the seed printed it."""

from torchinfo import summary

from stages.lib import atomic, params as P
from stages.lib.cli import clear_errors
from stages.lib.model import CNN, INPUT_SHAPE
from stages.lib.paths import MODEL_SUMMARY_FILE


def main() -> None:
    train = P.load_settings("model_summary", P.Train)
    text = str(summary(CNN(), input_size=(train.batch_size, *INPUT_SHAPE), verbose=0, device="cpu"))
    atomic.write_text(MODEL_SUMMARY_FILE, text + "\n")
    print(text)


if __name__ == "__main__":
    with clear_errors("model_summary"):
        main()
