from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.kws.models import (
    DSCNN,
    MODELS,
    BCResNet,
    FeatureNorm,
    Res8,
    SubSpectralNorm,
    build_model,
    count_macs,
    count_parameters,
)

PLAIN_LAYERS = (nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.SiLU, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
                nn.Linear, nn.Dropout, nn.Dropout2d)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize(("num_classes", "n_features"), [(12, 40), (35, 13)])
def test_forward_shape_and_backprop(name: str, num_classes: int, n_features: int) -> None:
    torch.manual_seed(0)
    model = build_model(name, num_classes=num_classes, n_features=n_features)
    x = torch.randn(3, 1, n_features, 98)
    out = model(x)
    assert out.shape == (3, num_classes)
    nn.functional.cross_entropy(out, torch.tensor([0, 1, 2])).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", sorted(MODELS))
def test_only_plain_layers(name: str) -> None:
    model = build_model(name)
    leaves = [m for m in model.modules() if not list(m.children())]
    assert leaves and all(isinstance(m, PLAIN_LAYERS) for m in leaves), {type(m) for m in leaves}


def test_dscnn_reference_shape() -> None:
    model = DSCNN()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 + 2 * 4
    assert convs[0].kernel_size == (10, 4) and convs[0].stride == (2, 2)
    assert all(c.groups == 64 and c.kernel_size == (3, 3) for c in convs[1::2])
    assert all(c.groups == 1 and c.kernel_size == (1, 1) for c in convs[2::2])
    assert model.features[:3](torch.zeros(1, 1, 40, 98)).shape == (1, 64, 20, 49)  # TF "same"


def test_dscnn_counts_match_docstring() -> None:
    # input norm 2*40, first conv 64*1*10*4, 4 x (depthwise 64*9 + pointwise 64*64), 9 BN x 2*64,
    # linear 64*12+12
    params = 2 * 40 + 64 * 40 + 4 * (64 * 9 + 64 * 64) + 9 * 2 * 64 + 64 * 12 + 12
    # output maps 20x49: first conv, 4 depthwise and 4 pointwise, then the linear layer
    macs = 20 * 49 * 64 * 40 + 4 * 20 * 49 * 64 * (9 + 64) + 64 * 12
    assert (params, macs) == (23_260, 20_823_808)
    model = DSCNN()
    assert count_parameters(model) == params
    assert count_macs(model, (1, 40, 98)) == macs
    assert count_parameters(DSCNN(input_norm=False)) == params - 80
    assert "23,260 parameters" in DSCNN.__doc__ and "20,823,808 MACs" in DSCNN.__doc__


def test_res8_counts_match_docstring() -> None:
    # input norm 2*40, conv0 45*9, six 45x45 3x3 convs, linear 45*12+12; BN without affine
    params = 2 * 40 + 45 * 9 + 6 * 45 * 45 * 9 + 45 * 12 + 12
    # conv0 on 40x98, pool 3x4 -> 13x24 for the six convs
    macs = 40 * 98 * 45 * 9 + 6 * 13 * 24 * 45 * 45 * 9 + 45 * 12
    assert (params, macs) == (110_387, 35_705_340)
    model = Res8()
    assert count_parameters(model) == params
    assert count_macs(model, (1, 40, 98)) == macs
    assert "110,387 parameters" in Res8.__doc__ and "35,705,340 MACs" in Res8.__doc__


def test_res8_follows_honk_forward() -> None:
    # Honk's SpeechResModel.forward, written with its own indexing (conv0..conv6,
    # bn1..bn6; skip added at even i > 0 after the ReLU, before the BN)
    torch.manual_seed(0)
    model = Res8()
    for bn in model.bns:  # non-trivial running statistics
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    model.eval()
    x = torch.randn(2, 1, 40, 98)
    convs = [model.conv0, *model.convs]
    x_normalized = model.input_norm(x)
    bns = [None, *model.bns]
    h = x_normalized
    old = None
    for i in range(7):
        y = torch.relu(convs[i](h))
        if i == 0:
            y = model.pool(y)
            old = y
        if i > 0 and i % 2 == 0:
            h = y + old
            old = h
        else:
            h = y
        if i > 0:
            h = bns[i](h)
    expected = model.classifier(h.mean(dim=(2, 3)))
    torch.testing.assert_close(model(x), expected)


def test_build_model_aliases_and_errors() -> None:
    assert isinstance(build_model("DS-CNN"), DSCNN)
    assert isinstance(build_model("ds_cnn", channels=16), DSCNN)
    assert isinstance(build_model("res8", num_classes=35), Res8)
    with pytest.raises(ValueError, match=r"unknown keyword-spotting model 'resnet50'.*dscnn.*res8"):
        build_model("resnet50")


def test_wrong_input_shape() -> None:
    with pytest.raises(ValueError, match=r"\[batch, 1, 40, frames\]"):
        DSCNN()(torch.zeros(2, 1, 13, 98))
    with pytest.raises(ValueError, match="Res8"):
        Res8()(torch.zeros(2, 40, 98))
    with pytest.raises(ValueError, match="BCResNet"):
        BCResNet()(torch.zeros(2, 1, 10, 98))


def test_feature_norm_standardises_each_feature_row() -> None:
    torch.manual_seed(0)
    scale = torch.tensor([50.0, 5.0, 0.5]).view(1, 1, 3, 1)
    offset = torch.tensor([-80.0, 3.0, 0.0]).view(1, 1, 3, 1)
    x = torch.randn(64, 1, 3, 98) * scale + offset  # MFCC-like: c0 large, others small
    norm = FeatureNorm(3)
    out = norm(x)  # training: batch statistics
    assert out.shape == x.shape
    torch.testing.assert_close(out.mean(dim=(0, 1, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.std(dim=(0, 1, 3)), torch.ones(3), atol=1e-2, rtol=0)
    for _ in range(200):  # running statistics converge to the data's
        norm(x)
    norm.eval()
    torch.testing.assert_close(norm.running_mean, offset.flatten(), atol=0.5, rtol=0.02)
    assert norm(x).abs().mean() < 1.5


def test_models_without_input_norm() -> None:
    for cls in (DSCNN, Res8, BCResNet):
        assert isinstance(cls(input_norm=False).input_norm, nn.Identity)
        assert isinstance(cls().input_norm, FeatureNorm)


def test_bcresnet_counts_match_docstring() -> None:
    model = BCResNet()
    assert count_parameters(model) == 9_312 and count_parameters(BCResNet(input_norm=False)) == 9_232
    assert count_macs(model, (1, 40, 98)) == 2_408_440
    assert "9,312 parameters" in BCResNet.__doc__ and "2,408,440 MACs" in BCResNet.__doc__
    assert isinstance(build_model("BC-ResNet"), BCResNet)


def test_bcresnet_layout_follows_the_paper() -> None:
    model = BCResNet(width=1)
    blocks = list(model.blocks)
    assert len(blocks) == 2 + 2 + 4 + 4
    # channels 16 (head), then 8, 12, 16, 20 per stage and 32 before the classifier
    assert model.head[0].out_channels == 16 and model.classifier.in_features == 32
    stage_channels = [b.f1[3].out_channels for b in blocks]
    assert stage_channels == [8] * 2 + [12] * 2 + [16] * 4 + [20] * 4
    # frequency 40 -> 20 (head) -> 10 (stage 2) -> 5 (stage 3); time dilation 2**stage
    assert [b.out_freq for b in blocks] == [20] * 2 + [10] * 2 + [5] * 8
    assert [b.f1[0].dilation[1] for b in blocks] == [1] * 2 + [2] * 2 + [4] * 4 + [8] * 4
    # the first block of a stage that changes the channel count has no identity shortcut
    assert [b.transition for b in blocks] == [True, False] * 2 + [True, False, False, False] * 2
    # the temporal branch is broadcast over frequency: f1 sees one frequency bin
    x = torch.randn(2, 1, 40, 98)
    h = model.head(model.input_norm(x))
    assert model.blocks[0].f1(model.blocks[0].freq_pool(model.blocks[0].f2(h))).shape == (2, 8, 1, 98)
    # a wider variant scales every stage
    assert BCResNet(width=2).classifier.in_features == 64


def test_bcresnet_block_adds_the_broadcast_branch_and_the_shortcut() -> None:
    torch.manual_seed(0)
    model = BCResNet().eval()
    block = model.blocks[1]  # same channels: identity shortcut
    x = torch.randn(2, 8, 20, 98)
    spectral = block.f2(x)
    temporal = block.f1(spectral.mean(dim=2, keepdim=True))
    torch.testing.assert_close(block(x), torch.relu(x + spectral + temporal))


def test_sub_spectral_norm_normalises_each_band_separately() -> None:
    torch.manual_seed(0)
    x = torch.randn(32, 2, 10, 7)
    x[:, :, 5:] = x[:, :, 5:] * 10 + 4  # the upper band has another scale
    norm = SubSpectralNorm(2, sub_bands=2)
    out = norm(x)
    for band in (slice(0, 5), slice(5, 10)):
        part = out[:, :, band]
        torch.testing.assert_close(part.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-4, rtol=0)
        torch.testing.assert_close(part.std(dim=(0, 2, 3)), torch.ones(2), atol=2e-2, rtol=0)
    # one band is a plain batch norm
    plain = SubSpectralNorm(2, sub_bands=1)
    torch.testing.assert_close(plain(x), nn.functional.batch_norm(x, None, None, training=True))
    with pytest.raises(ValueError, match="10 frequency bins do not split into 3 sub-bands"):
        SubSpectralNorm(2, sub_bands=3)(x)
    with pytest.raises(ValueError, match="sub_bands must be >= 1"):
        SubSpectralNorm(2, sub_bands=0)
