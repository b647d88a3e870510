"""Stage model_summary: the torchinfo summary of the CNN at batch 32, as the seed printed it."""

from torchinfo import summary

from stages.lib import atomic, params as P
from stages.lib.model import CNN, INPUT_SHAPE
from stages.lib.paths import MODEL_SUMMARY_FILE


def main() -> None:
    batch_size = P.load_checked("model_summary", lambda p: P.positive_int(p, "train.batch_size"))
    text = str(summary(CNN(), input_size=(batch_size, *INPUT_SHAPE), verbose=0, device="cpu"))
    atomic.write_text(MODEL_SUMMARY_FILE, text + "\n")
    print(text)


if __name__ == "__main__":
    main()
