"""Radio energy per bit of an edge node, from datasheet currents.

``J/bit = supply voltage x radio current / PHY bit rate``: the energy while the radio is
actually sending (or receiving) at its raw PHY rate. It is a **lower bound**: protocol
headers, connection events, acknowledgements, retransmissions and idle listening are not
included (they commonly cost 1.5-3x more for BLE). Every constant cites its source; the
table in ``docs/edge_to_cloud.md`` repeats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ==== Bluetooth Low Energy: Nordic Semiconductor nRF52840 Product Specification (v1.7),
# radio current consumption, DC/DC enabled, VDD = 3.0 V.
BLE_SUPPLY_V = 3.0  # nRF52840 PS: current figures given at VDD = 3 V
BLE_TX_A = 4.8e-3  # nRF52840 PS: TX only, 0 dBm output, DC/DC: 4.8 mA
BLE_RX_A = 4.6e-3  # nRF52840 PS: RX only, 1 Mbps BLE mode, DC/DC: 4.6 mA
BLE_PHY_BPS = 1e6  # Bluetooth Core Specification v5.x, LE 1M PHY: 1 Mbit/s symbol rate

# ==== Wi-Fi: Espressif ESP32 Series Datasheet (v4.x), "RF power-consumption
# specifications", VDD = 3.3 V, 25 C, TX measured at 50 % duty cycle.
WIFI_SUPPLY_V = 3.3  # ESP32 datasheet: measurements at 3.3 V
WIFI_TX_A = 180e-3  # ESP32 datasheet: TX 802.11n, MCS7, POUT = +14 dBm: 180 mA
WIFI_RX_A = 100e-3  # ESP32 datasheet: RX 802.11b/g/n: 95-100 mA (upper value)
WIFI_PHY_BPS = 65e6  # IEEE 802.11n-2009 MCS table: MCS7, 20 MHz, 800 ns GI = 65 Mbit/s


@dataclass(frozen=True)
class RadioLink:
    """A node's radio: energy per transmitted and per received bit (J/bit).

    Attributes:
        name: registry key; description: one line.
        tx_j_per_bit: energy to send one bit, J; rx_j_per_bit: to receive one bit, J.
        sources: field -> where the number comes from.
    """

    name: str
    description: str
    tx_j_per_bit: float
    rx_j_per_bit: float
    sources: dict[str, str] = field(default_factory=dict)

    def tx_energy_j(self, num_bytes: float) -> float:
        """Energy (J) to send ``num_bytes`` bytes."""
        return float(num_bytes) * 8.0 * self.tx_j_per_bit

    def rx_energy_j(self, num_bytes: float) -> float:
        """Energy (J) to receive ``num_bytes`` bytes."""
        return float(num_bytes) * 8.0 * self.rx_j_per_bit


BLE = RadioLink(
    name="ble",
    description="Bluetooth LE 1M PHY, Nordic nRF52840 at 0 dBm, DC/DC, 3.0 V",
    tx_j_per_bit=BLE_SUPPLY_V * BLE_TX_A / BLE_PHY_BPS,
    rx_j_per_bit=BLE_SUPPLY_V * BLE_RX_A / BLE_PHY_BPS,
    sources={
        "tx_j_per_bit": "nRF52840 Product Specification: TX 0 dBm 4.8 mA (DC/DC) x 3.0 V / 1 Mbit/s",
        "rx_j_per_bit": "nRF52840 Product Specification: RX 1 Mbps 4.6 mA (DC/DC) x 3.0 V / 1 Mbit/s",
    },
)

WIFI = RadioLink(
    name="wifi",
    description="Wi-Fi 802.11n MCS7 20 MHz, Espressif ESP32 at +14 dBm, 3.3 V",
    tx_j_per_bit=WIFI_SUPPLY_V * WIFI_TX_A / WIFI_PHY_BPS,
    rx_j_per_bit=WIFI_SUPPLY_V * WIFI_RX_A / WIFI_PHY_BPS,
    sources={
        "tx_j_per_bit": "ESP32 datasheet: TX 802.11n MCS7 +14 dBm 180 mA x 3.3 V / 65 Mbit/s (802.11n MCS7)",
        "rx_j_per_bit": "ESP32 datasheet: RX 802.11b/g/n 100 mA x 3.3 V / 65 Mbit/s",
    },
)

LINKS: dict[str, RadioLink] = {link.name: link for link in (BLE, WIFI)}


def get_link(spec: str | RadioLink) -> RadioLink:
    """A :class:`RadioLink` by name (``"ble"``, ``"wifi"``) or passed through.

    Raises:
        ValueError: unknown name (listing the known ones).
    """
    if isinstance(spec, RadioLink):
        return spec
    try:
        return LINKS[spec]
    except KeyError:
        raise ValueError(f"unknown radio link {spec!r}; known: {sorted(LINKS)}") from None


__all__ = ["BLE", "LINKS", "RadioLink", "WIFI", "get_link"]
