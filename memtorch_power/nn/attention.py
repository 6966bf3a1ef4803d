"""``AnalogMultiheadAttention``: ``nn.MultiheadAttention`` with its projections on PCM arrays."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from memtorch_power.nn.base import DEFAULT_PRESET
from memtorch_power.nn.linear import AnalogLinear
from memtorch_power.presets import PresetLike


class AnalogMultiheadAttention(nn.Module):
    """Drop-in replacement for :class:`torch.nn.MultiheadAttention` whose weight matrices live on
    PCM arrays.

    The query/key/value in-projection (one ``embed_dim x 3*embed_dim`` matrix, or three when
    ``kdim``/``vdim`` differ) and the out-projection are :class:`AnalogLinear` layers; the
    attention itself (``Q K^T``, softmax, ``A V``: activation times activation, nothing to store
    in an array) runs digitally, as on the analog chips this package models. Arguments, masks
    and outputs are those of ``nn.MultiheadAttention`` (``batch_first``, ``key_padding_mask``,
    ``attn_mask`` (bool or float), ``need_weights``, ``average_attn_weights``, ``is_causal``,
    unbatched inputs), except ``add_bias_kv`` and ``add_zero_attn``, which are refused.

    ``in_proj_weight``/``in_proj_bias`` are ``None`` (the weights are on the arrays: read them with
    ``in_proj.get_weights()``). That is also what keeps ``nn.TransformerEncoderLayer`` off its
    fused CPU/GPU "fast path", which would read the matrices and compute digitally.
    """

    in_proj_weight = None
    in_proj_bias = None
    bias_k = None
    bias_v = None

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        preset: PresetLike = DEFAULT_PRESET,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be > 0, got {embed_dim} and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        if self._qkv_same_embed_dim:
            self.in_proj = AnalogLinear(embed_dim, 3 * embed_dim, bias=bias, preset=preset)
        else:
            self.q_proj = AnalogLinear(embed_dim, embed_dim, bias=bias, preset=preset)
            self.k_proj = AnalogLinear(self.kdim, embed_dim, bias=bias, preset=preset)
            self.v_proj = AnalogLinear(self.vdim, embed_dim, bias=bias, preset=preset)
        self.out_proj = AnalogLinear(embed_dim, embed_dim, bias=bias, preset=preset)

    # -- conversion --------------------------------------------------------------------------------
    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention,
                   preset: PresetLike = DEFAULT_PRESET) -> "AnalogMultiheadAttention":
        """An analog copy of ``module`` with its trained projections.

        Raises:
            ValueError: for ``add_bias_kv`` or ``add_zero_attn`` (not supported).
        """
        if module.bias_k is not None or module.add_zero_attn:
            raise ValueError("AnalogMultiheadAttention: add_bias_kv and add_zero_attn are not supported")
        bias = module.out_proj.bias is not None
        layer = cls(module.embed_dim, module.num_heads, module.dropout, bias, module.kdim, module.vdim,
                    module.batch_first, preset=preset)
        out_bias = module.out_proj.bias
        if layer._qkv_same_embed_dim:
            layer.in_proj.set_weights(module.in_proj_weight.detach(),
                                      None if module.in_proj_bias is None else module.in_proj_bias.detach())
        else:
            biases = [None] * 3 if module.in_proj_bias is None else module.in_proj_bias.detach().chunk(3)
            for proj, weight, b in zip((layer.q_proj, layer.k_proj, layer.v_proj),
                                       (module.q_proj_weight, module.k_proj_weight, module.v_proj_weight), biases):
                proj.set_weights(weight.detach(), b)
        layer.out_proj.set_weights(module.out_proj.weight.detach(), None if out_bias is None else out_bias.detach())
        layer.train(module.training)
        return layer

    def to_torch(self) -> nn.MultiheadAttention:
        """A plain ``nn.MultiheadAttention`` with the currently stored weights."""
        bias = self.out_proj.has_bias
        module = nn.MultiheadAttention(self.embed_dim, self.num_heads, self.dropout, bias,
                                       kdim=self.kdim, vdim=self.vdim, batch_first=self.batch_first)
        with torch.no_grad():
            if self._qkv_same_embed_dim:
                weight, b = self.in_proj.get_weights()
                module.in_proj_weight.copy_(weight)
                if b is not None:
                    module.in_proj_bias.copy_(b)
            else:
                parts = [p.get_weights() for p in (self.q_proj, self.k_proj, self.v_proj)]
                for target, (weight, _) in zip((module.q_proj_weight, module.k_proj_weight,
                                                module.v_proj_weight), parts):
                    target.copy_(weight)
                if bias:
                    module.in_proj_bias.copy_(torch.cat([b for _, b in parts]))
            weight, b = self.out_proj.get_weights()
            module.out_proj.weight.copy_(weight)
            if b is not None:
                module.out_proj.bias.copy_(b)
        module.train(self.training)
        return module

    # -- forward -----------------------------------------------------------------------------------
    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if self._qkv_same_embed_dim and query is key and key is value:
            return self.in_proj(query).chunk(3, dim=-1)  # self-attention: one array pass
        if self._qkv_same_embed_dim:
            # cross-attention with one stored matrix: each input through the whole array,
            # keeping its third (the array computes all columns in one MVM anyway)
            e = self.embed_dim
            return (self.in_proj(query)[..., :e], self.in_proj(key)[..., e:2 * e],
                    self.in_proj(value)[..., 2 * e:])
        return self.q_proj(query), self.k_proj(key), self.v_proj(value)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Same inputs and outputs as :meth:`torch.nn.MultiheadAttention.forward`."""
        unbatched = query.dim() == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif query.dim() != 3:
            raise ValueError(f"AnalogMultiheadAttention expects 2-d or 3-d inputs, got {tuple(query.shape)}")
        if not self.batch_first or unbatched:  # [L, N, E] -> [N, L, E]
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        batch, target, source = query.shape[0], query.shape[1], key.shape[1]
        q, k, v = self._project(query, key, value)
        q, k, v = (t.reshape(batch, -1, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        mask = self._mask(attn_mask, key_padding_mask, is_causal, batch, target, source, q)
        dropout = self.dropout if self.training else 0.0
        if need_weights:
            scores = q @ k.transpose(-2, -1) / self.head_dim ** 0.5
            if mask is not None:
                scores = scores + mask
            weights = torch.softmax(scores, dim=-1)
            attended = F.dropout(weights, dropout) @ v
        else:
            weights = None
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        out = self.out_proj(attended.transpose(1, 2).reshape(batch, target, self.embed_dim))
        if not self.batch_first or unbatched:
            out = out.transpose(0, 1)
        if unbatched:
            out = out.squeeze(1)
        if weights is not None:
            weights = weights.mean(dim=1) if average_attn_weights else weights
            if unbatched:
                weights = weights.squeeze(0)
        return out, weights

    def _mask(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool,
              batch: int, target: int, source: int, like: Tensor) -> Tensor | None:
        """One additive float mask ``[N, heads, L, S]`` of ``like``'s dtype (``-inf`` where attention
        is not allowed)."""
        dtype = like.dtype
        if is_causal and attn_mask is None:
            attn_mask = torch.ones(target, source, dtype=torch.bool, device=like.device).triu(1)
        masks = []
        if attn_mask is not None:
            mask = _additive(attn_mask, dtype)
            if mask.dim() == 3:  # [N * heads, L, S]
                mask = mask.reshape(batch, self.num_heads, target, source)
            masks.append(mask)
        if key_padding_mask is not None:
            masks.append(_additive(key_padding_mask, dtype).reshape(batch, 1, 1, source))
        if not masks:
            return None
        total = masks[0]
        for mask in masks[1:]:
            total = total + mask
        return total

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}, preset={self.out_proj.preset.name}")


def _additive(mask: Tensor, dtype: torch.dtype) -> Tensor:
    """A boolean mask (True: not allowed) as 0 / -inf; a float mask as it is."""
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))
    return mask.to(dtype)
