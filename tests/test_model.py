import torch
from torch import nn
from torchinfo import summary

from stages.lib.model import CNN, count_parameters


def test_parameter_count_is_the_seeds():
    assert count_parameters(CNN()) == 121_994


def test_layers_are_the_seeds():
    model = CNN()
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (1, 32, (3, 3), (1, 1)), (32, 64, (3, 3), (0, 0)), (64, 64, (3, 3), (0, 0))]
    assert sum(isinstance(m, nn.ReLU) for m in model.features) == 3
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.features) == 2
    assert [type(m) for m in model.classifier] == [nn.Linear, nn.Sigmoid, nn.Linear]
    assert (model.classifier[0].in_features, model.classifier[0].out_features) == (1024, 64)
    assert (model.classifier[2].in_features, model.classifier[2].out_features) == (64, 10)


def test_shapes_and_softmax_output():
    model = CNN().eval()
    x = torch.randn(5, 1, 28, 28)
    assert model.features(x).shape == (5, 1024)
    probabilities = model(x)
    assert probabilities.shape == (5, 10)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(5))
    torch.testing.assert_close(probabilities, torch.softmax(model.logits(x), dim=1))


def test_torchinfo_summary_at_batch_32():
    text = str(summary(CNN(), input_size=(32, 1, 28, 28), verbose=0, device="cpu"))
    assert "Total params: 121,994" in text
    assert "[32, 10]" in text
