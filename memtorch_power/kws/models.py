"""Small keyword-spotting CNNs built only from plain torch layers.

Only ``nn.Conv2d``, ``nn.BatchNorm2d``, ``nn.BatchNorm1d`` (:class:`FeatureNorm`),
``nn.ReLU``, ``nn.SiLU``, ``nn.AvgPool2d``, ``nn.AdaptiveAvgPool2d``, ``nn.Dropout``,
``nn.Dropout2d`` and ``nn.Linear`` are used (no functional convolutions; the only
containers of our own, :class:`FeatureNorm` and :class:`SubSpectralNorm`, are batch
norms), so every Conv2d/Linear can be swapped for an analog counterpart by walking
``named_modules()``. Input ``[batch, 1, n_features,
frames]``, output logits ``[batch, num_classes]``.

Parameter and MAC counts in the docstrings are for the default arguments and a
``[1, 40, 98]`` input (40 MFCC x 98 frames of a 1 s clip), computed with
:func:`count_parameters` and :func:`count_macs` (MACs of Conv2d and Linear layers
only; batch norm, ReLU and pooling are not counted). ``tests/kws`` checks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import torch
from torch import Tensor, nn

__all__ = ["BCResNet", "DSCNN", "Res8", "FeatureNorm", "SubSpectralNorm", "MODELS", "build_model", "count_parameters", "count_macs"]


def _check_input(x: Tensor, n_features: int, name: str) -> None:
    if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] != n_features:
        raise ValueError(
            f"{name} expects input [batch, 1, {n_features}, frames], got {tuple(x.shape)}"
        )


class FeatureNorm(nn.BatchNorm1d):
    """Standardises every feature row (MFCC coefficient / mel band) of ``[batch, 1,
    n_features, frames]`` inputs: batch statistics while training, running statistics
    (mean and variance per row, over examples and frames) at inference, then a learned
    scale and shift per row.

    MFCCs differ in scale by two orders of magnitude (c0 is the log energy, tens of
    units; higher coefficients are a few units). A crossbar quantises each input vector
    to the DAC's levels over its whole range, so without this the small coefficients
    would get only a few levels; digital training also converges faster. It is a plain
    ``nn.BatchNorm1d`` over the feature rows, so checkpoints, ``analogize`` (which
    leaves it digital) and the energy rules (4 operations per element) treat it as one.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__(n_features)

    def forward(self, x: Tensor) -> Tensor:  # [B, 1, F, T] -> [B, 1, F, T]
        return super().forward(x.squeeze(1)).unsqueeze(1)


class DSCNN(nn.Module):
    """Depthwise-separable CNN in the shape of the MLPerf Tiny keyword-spotting
    reference (Zhang et al. 2017, "Hello Edge"; mlcommons/tiny ``ds_cnn``).

    Optional :class:`FeatureNorm` of the input (on by default), then conv 10x4 stride 2
    (TensorFlow "same" padding for a 40x98 input, giving 20x49)
    + BN + ReLU + Dropout(0.2), then ``blocks`` x [depthwise 3x3 (groups=channels) +
    BN + ReLU + pointwise 1x1 + BN + ReLU], Dropout(0.4), global average pool,
    Linear. Convolutions have no bias (each is followed by batch norm), unlike the
    Keras reference, which keeps redundant biases.

    Defaults (12 classes, 64 channels, 4 blocks, input [1, 40, 98], 20x49 maps
    after the first conv): 23,260 parameters (1,232 of them input-norm and BN scales/shifts;
    BN running statistics not counted) and 20,823,808 MACs (first conv 2.51 M,
    depthwise 2.26 M, pointwise 16.06 M, linear 768).

    Args:
        num_classes: output classes.
        n_features: feature rows of the input (MFCC coefficients / mel bands).
        channels: feature maps of every layer.
        blocks: depthwise-separable blocks.
        dropout: dropout after the first conv; the one before pooling is twice this.
        input_norm: standardise each feature row first (:class:`FeatureNorm`).
    """

    def __init__(
        self, num_classes: int = 12, n_features: int = 40, channels: int = 64, blocks: int = 4,
        dropout: float = 0.2, input_norm: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes, self.n_features = num_classes, n_features
        self.input_norm = FeatureNorm(n_features) if input_norm else nn.Identity()
        layers: list[nn.Module] = [
            nn.Conv2d(1, channels, kernel_size=(10, 4), stride=(2, 2), padding=(4, 1), bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Dropout(dropout),
        ]
        for _ in range(blocks):
            layers += [
                nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
                nn.Conv2d(channels, channels, 1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(),
            ]
        layers += [nn.Dropout(min(2 * dropout, 0.9)), nn.AdaptiveAvgPool2d(1)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.n_features, "DSCNN")
        return self.classifier(self.features(self.input_norm(x)).flatten(1))


class Res8(nn.Module):
    """res8 of Tang & Lin 2018, "Deep residual learning for small-footprint keyword
    spotting" (layout of their Honk ``SpeechResModel``).

    Optional :class:`FeatureNorm` of the input (on by default), conv 3x3 (``channels``
    maps, no bias) + ReLU, average pool 3x4 over
    (features, frames) (the paper's 4x3 over time x frequency), then 3 residual
    blocks of two [conv 3x3 + ReLU + BN (no affine)] where the skip connection is
    added after the second ReLU and before its BN, global average, Linear.

    Defaults (12 classes, 45 channels, input [1, 40, 98]): 110,387 parameters
    (the paper's 110,307 plus 80 of the input norm) and 35,705,340 MACs (first conv 1.59 M on 40x98, six convs
    of 5.69 M on the 13x24 pooled map, linear 540).

    Args:
        num_classes: output classes.
        n_features: feature rows of the input.
        channels: feature maps (45 in the paper).
        blocks: residual blocks (3 for res8).
        pool: average-pool kernel over (features, frames).
        input_norm: standardise each feature row first (:class:`FeatureNorm`).
    """

    def __init__(
        self, num_classes: int = 12, n_features: int = 40, channels: int = 45, blocks: int = 3,
        pool: tuple[int, int] = (3, 4), input_norm: bool = True,
    ) -> None:
        super().__init__()
        self.num_classes, self.n_features = num_classes, n_features
        self.input_norm = FeatureNorm(n_features) if input_norm else nn.Identity()
        self.conv0 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU()
        self.pool = nn.AvgPool2d(pool)
        self.convs = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False) for _ in range(2 * blocks)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(channels, affine=False) for _ in range(2 * blocks))
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.n_features, "Res8")
        x = self.pool(self.relu(self.conv0(self.input_norm(x))))
        skip = x
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            y = self.relu(conv(x))
            if i % 2 == 1:  # second conv of a block
                y = y + skip
                skip = y
            x = bn(y)
        return self.classifier(self.global_pool(x).flatten(1))


class SubSpectralNorm(nn.Module):
    """Sub-spectral normalisation (Chang et al., Interspeech 2021, arXiv:2103.13620): batch
    norm with separate statistics, scale and shift for each of ``sub_bands`` equal
    frequency bands of every channel of a ``[batch, channels, freq, frames]`` map.

    Args:
        channels: channels of the input.
        sub_bands: frequency bands; must divide the input's frequency size.
    """

    def __init__(self, channels: int, sub_bands: int) -> None:
        super().__init__()
        if sub_bands < 1:
            raise ValueError(f"SubSpectralNorm: sub_bands must be >= 1, got {sub_bands}")
        self.sub_bands = sub_bands
        self.norm = nn.BatchNorm2d(channels * sub_bands)

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, freq, frames = x.shape
        if freq % self.sub_bands:
            raise ValueError(
                f"SubSpectralNorm: {freq} frequency bins do not split into {self.sub_bands} sub-bands"
            )
        x = x.reshape(batch, channels * self.sub_bands, freq // self.sub_bands, frames)
        return self.norm(x).reshape(batch, channels, freq, frames)


def _same_padding(kernel: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))  # type: ignore[return-value]


class _BCResBlock(nn.Module):
    """One broadcasted-residual block: a frequency-depthwise 3x1 conv + sub-spectral norm
    (f2), averaged over frequency, then a dilated time-depthwise 1x3 conv + BN + SiLU + 1x1
    conv + channel dropout (f1), broadcast back over frequency and added to f2's output
    (and to the input, unless the block changes the channel count), then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, freq: int, freq_stride: int,
                 dilation: int, sub_bands: int, dropout: float) -> None:
        super().__init__()
        self.transition = in_channels != out_channels
        f2: list[nn.Module] = []
        if self.transition:
            f2 += [nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU()]
        out_freq = (freq - 1) // freq_stride + 1
        f2 += [
            nn.Conv2d(out_channels, out_channels, (3, 1), stride=(freq_stride, 1), padding=(1, 0),
                      groups=out_channels, bias=False),
            SubSpectralNorm(out_channels, math.gcd(sub_bands, out_freq)),
        ]
        self.f2 = nn.Sequential(*f2)
        self.freq_pool = nn.AdaptiveAvgPool2d((1, None))
        self.f1 = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, (1, 3), padding=_same_padding((1, 3), (1, dilation)),
                      dilation=(1, dilation), groups=out_channels, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.SiLU(),
            nn.Conv2d(out_channels, out_channels, 1, bias=False),
            nn.Dropout2d(dropout),
        )
        self.out_freq = out_freq
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        spectral = self.f2(x)
        out = self.f1(self.freq_pool(spectral)) + spectral
        if not self.transition:
            out = out + x
        return self.relu(out)


class BCResNet(nn.Module):
    """BC-ResNet of Kim, Chang, Lee & Sung, "Broadcasted Residual Learning for Efficient
    Keyword Spotting" (Interspeech 2021, arXiv:2106.04140), in the layout of the authors'
    reference code (Qualcomm-AI-research/bcresnet).

    Optional :class:`FeatureNorm`, head conv 5x5 stride (2, 1) + BN + ReLU, four stages of
    [2, 2, 4, 4] broadcasted-residual blocks with ``8 * width`` x [1, 1.5, 2, 2.5] channels
    (stages 2 and 3 halve the frequency axis, stage ``i`` dilates its temporal convs by
    ``2**i``), then a depthwise conv over the remaining frequency bins, a 1x1 conv to
    ``32 * width`` channels + BN + ReLU, global average pool and Linear. Sub-spectral norm
    uses 5 sub-bands where the frequency size allows (``gcd(5, bins)`` otherwise).

    ``width=1`` is BC-ResNet-1. Defaults (12 classes, input [1, 40, 98]): 9,312 parameters
    (80 of them the input norm; the paper gives 9.2 k without it) and 2,408,440 MACs. Depthwise convolutions carry most
    of the layers and stay digital when the model is analogized with ``skip_grouped``.

    Args:
        num_classes: output classes.
        n_features: feature rows of the input (40 log-mel bands in the paper).
        width: channel multiplier ``tau`` (1, 1.5, 2, 3, 6, 8 in the paper).
        dropout: channel dropout of every block's temporal branch.
        sub_bands: sub-spectral norm bands (5 in the paper).
        input_norm: standardise each feature row first (:class:`FeatureNorm`).
    """

    def __init__(
        self, num_classes: int = 12, n_features: int = 40, width: float = 1.0, dropout: float = 0.1,
        sub_bands: int = 5, input_norm: bool = True,
    ) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"BCResNet: width must be > 0, got {width}")
        self.num_classes, self.n_features = num_classes, n_features
        base = 8 * width
        channels = [int(base * 2), int(base), int(base * 1.5), int(base * 2), int(base * 2.5), int(base * 4)]
        self.input_norm = FeatureNorm(n_features) if input_norm else nn.Identity()
        self.head = nn.Sequential(
            nn.Conv2d(1, channels[0], 5, stride=(2, 1), padding=2, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(),
        )
        freq = (n_features - 1) // 2 + 1
        blocks: list[nn.Module] = []
        for stage, repeats in enumerate((2, 2, 4, 4)):
            for i in range(repeats):
                stride = 2 if stage in (1, 2) and i == 0 else 1
                block = _BCResBlock(channels[stage] if i == 0 else channels[stage + 1], channels[stage + 1],
                                    freq, stride, 2**stage, sub_bands, dropout)
                freq = block.out_freq
                blocks.append(block)
        self.blocks = nn.Sequential(*blocks)
        last = channels[4]
        self.tail = nn.Sequential(
            nn.Conv2d(last, last, (freq, 5), padding=(0, 2), groups=last, bias=False),
            nn.Conv2d(last, channels[5], 1, bias=False),
            nn.BatchNorm2d(channels[5]),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(channels[5], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.n_features, "BCResNet")
        return self.classifier(self.tail(self.blocks(self.head(self.input_norm(x)))).flatten(1))


#: Model registry for :func:`build_model`.
MODELS: Final[dict[str, Callable[..., nn.Module]]] = {"dscnn": DSCNN, "res8": Res8, "bcresnet": BCResNet}


def build_model(name: str, **kwargs: object) -> nn.Module:
    """Instantiate a registered model (``"dscnn"``/``"ds_cnn"``/``"ds-cnn"``, ``"res8"``,
    ``"bcresnet"``/``"bc-resnet"``)
    with keyword arguments for its constructor.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    key = name.strip().lower().replace("_", "").replace("-", "")
    if key not in MODELS:
        raise ValueError(f"unknown keyword-spotting model {name!r}; known models: {sorted(MODELS)}")
    return MODELS[key](**kwargs)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (buffers such as BN running stats excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: tuple[int, ...] = (1, 40, 98)) -> int:
    """Multiply-accumulates of one forward pass of one example of ``input_shape``
    (without the batch dim), summed over ``nn.Conv2d`` and ``nn.Linear`` layers:
    ``out_elements * in_channels / groups * kernel_h * kernel_w`` per conv and
    ``in_features * out_features`` per linear layer."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out[0].numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, _inp: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal total
        total += m.in_features * m.out_features * (out[0].numel() // m.out_features)

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total
