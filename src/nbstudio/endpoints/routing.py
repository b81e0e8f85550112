"""Traffic rules: which deployment answers a request, and which requests are mirrored.

Pure functions and two tiny state machines, shared by the endpoint process (routing) and the
commands (validation), so both apply the same rules. The rules follow Azure ML's online endpoints:
live traffic sums to 100 % (or 0 % while nothing is deployed), one deployment at most receives
mirrored traffic, at most 50 %, and it takes no live traffic itself.

Both choices are deterministic rather than random: smooth weighted round robin gives every
deployment exactly its share in each window of 100 requests, well interleaved, and the mirror
counter copies exactly N of every 100 requests. A class running 50 requests sees the split it set.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from nbstudio.endpoints.errors import EndpointError

MAX_MIRROR = 50


class WeightedRoundRobin:
    """nginx's smooth weighted round robin over the deployments with a positive weight."""

    def __init__(self, weights: dict[str, int]) -> None:
        self.weights = {name: int(w) for name, w in weights.items() if int(w) > 0}
        self._current = dict.fromkeys(self.weights, 0)

    def pick(self, available: Container[str] | None = None) -> str | None:
        """The next deployment among ``available`` ones (all if None); None if none can answer.

        A deployment that is not available (restarting after a crash, say) is left out of the
        round, so the others share its traffic by their own weights until it is back.
        """
        best: str | None = None
        total = 0
        for name, weight in self.weights.items():
            if available is not None and name not in available:
                continue
            self._current[name] += weight
            total += weight
            if best is None or self._current[name] > self._current[best]:
                best = name
        if best is not None:
            self._current[best] -= total
        return best


class MirrorCounter:
    """Says yes to exactly ``percent`` of every 100 calls, evenly spread."""

    def __init__(self, percent: int) -> None:
        self.percent = max(0, min(100, int(percent)))
        self._acc = 0

    def __call__(self) -> bool:
        self._acc += self.percent
        if self._acc >= 100:
            self._acc -= 100
            return True
        return False


def parse_weights(items: Iterable[str], option: str = "traffic") -> dict[str, int]:
    """``["blue=90", "green=10"]`` (the command-line form) to ``{"blue": 90, "green": 10}``."""
    weights: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            percent = int(value.strip().rstrip("%"))
        except ValueError:
            percent = -1
        if not sep or not name or percent < 0:
            raise EndpointError(
                f"{option} {item!r}: expected DEPLOYMENT=PERCENT with a whole number, e.g. blue=90"
            )
        weights[name] = percent
    return weights


def _check_names(weights: dict[str, int], deployments: Container[str], what: str) -> None:
    for name in weights:
        if name not in deployments:
            raise EndpointError(f"{what}: there is no deployment named {name!r} on this endpoint.")


def check_traffic(weights: dict[str, int], deployments: Iterable[str]) -> dict[str, int]:
    """Validate live traffic and return it with every deployment listed (absent ones at 0)."""
    names = list(deployments)
    _check_names(weights, names, "traffic")
    for name, percent in weights.items():
        if not 0 <= percent <= 100:
            raise EndpointError(f"traffic {name}={percent}: a percentage is between 0 and 100.")
    total = sum(weights.values())
    if total not in (0, 100):
        raise EndpointError(
            f"Traffic must add up to 100 % across deployments (or 0 % to take none); "
            f"{' + '.join(f'{n}={p}' for n, p in weights.items())} makes {total} %."
        )
    return {name: int(weights.get(name, 0)) for name in names}


def check_mirror(
    mirror: dict[str, int], traffic: dict[str, int], deployments: Iterable[str]
) -> dict[str, int]:
    """Validate mirrored traffic against the live traffic it copies; drop 0 % entries."""
    _check_names(mirror, list(deployments), "mirror")
    mirror = {name: int(p) for name, p in mirror.items() if int(p) != 0}
    if len(mirror) > 1:
        raise EndpointError("Only one deployment can receive mirrored traffic at a time.")
    for name, percent in mirror.items():
        if not 0 < percent <= MAX_MIRROR:
            raise EndpointError(
                f"mirror {name}={percent}: mirror between 0 and {MAX_MIRROR} % of the traffic."
            )
        if traffic.get(name, 0) > 0:
            raise EndpointError(
                f"{name} takes {traffic[name]} % of the live traffic, so it cannot also receive "
                "mirrored traffic: set its traffic to 0 first."
            )
    return mirror


def share(traffic: dict[str, int], name: str, percent: int) -> dict[str, int]:
    """Give ``name`` ``percent`` % and scale the others so the total stays 100 %.

    ``blue=100`` sharing 10 % with green gives ``blue=90, green=10``; ``blue=50, red=50`` gives
    ``blue=45, red=45, green=10`` (largest remainders settle the rounding).
    """
    if not 0 <= percent <= 100:
        raise EndpointError(f"--traffic {percent}: a percentage is between 0 and 100.")
    others = {n: p for n, p in traffic.items() if n != name and p > 0}
    rest = 100 - percent
    total = sum(others.values())
    if total == 0:
        if rest:
            raise EndpointError(
                f"{name} would take {percent} % but no other deployment takes the other {rest} %: "
                "give it --traffic 100, or set every share with %endpoint traffic."
            )
        return {**dict.fromkeys(traffic, 0), name: percent}
    exact = {n: p * rest / total for n, p in others.items()}
    result = {n: int(v) for n, v in exact.items()}
    leftover = rest - sum(result.values())
    for n in sorted(exact, key=lambda n: exact[n] - result[n], reverse=True)[:leftover]:
        result[n] += 1
    return {**dict.fromkeys(traffic, 0), **result, name: percent}
