"""The weekly self-check (`mmctl checkin`): three questions, advice, and fewer cues on request.

The questions come from the article: is there tightness that persists after
a full day? have the cues become background noise? do the new movements feel
natural yet? A fourth asks about warning signs (pain that persists, swelling,
numbness, loss of motion). Tightness or a warning sign: see a physiotherapist
or the occupational health service; micromove is preventive and never
diagnoses.

Storing: one row in the `checkins` table (1 yes, 0 no, NULL unanswered; the
note is "pain" when warning signs were reported, nothing else is ever
stored: no free text). The daemon may be running and writing the same
database, so:
- no database yet: `Store.open` creates it (with the schema, as the daemon
  would; nobody else can be using a file that does not exist);
- a database exists: `Store.open_existing`, which never migrates, never
  changes the journal mode and never moves a file aside; the row goes in one
  short `BEGIN IMMEDIATE` transaction that waits up to 5 s (SQLite's busy
  timeout) for the daemon's own, which last milliseconds (WAL mode).

Changes when the cues have become noise (`propose`):
- "fewer": every enabled cue's interval 1.5 times as long (whole minutes),
  about a third fewer cues;
- "rest": switch off the cues of one active region, the one moved least
  after its cues in the last 14 days (done or likely done), so the other
  active regions carry on. Offered when at least two regions are active.
They are made in the person's config file (configedit: comments kept,
re-validated) and the running daemon is asked to reload (SIGHUP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .configedit import Edit
from .core import catalog
from .errors import UsageError
from .report.progress import Progress

QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("tight", "--tightness", "After a full day at the desk, is there tightness that does not go away?"),
    ("noise", "--noise", "Have the cues become background noise (you let them pass without moving)?"),
    ("natural", "--natural", "Do the new movements feel natural yet?"),
)
PAIN_QUESTION = "Any pain that persists despite practice, or swelling, numbness or loss of range of motion?"
FEWER_FACTOR = 1.5


@dataclass
class Answers:
    tight: bool | None = None
    noise: bool | None = None
    natural: bool | None = None
    pain: bool = False


SEE_A_PROFESSIONAL = (
    "Please see a physiotherapist or your occupational health service about it. "
    "micromove is a preventive habit tool: it cannot tell what causes this and never diagnoses; "
    "keep to movements that do not hurt."
)


def advice(a: Answers) -> list[str]:
    out: list[str] = []
    if a.pain:
        out.append("You report pain, swelling, numbness or loss of motion. " + SEE_A_PROFESSIONAL)
    elif a.tight:
        out.append("Tightness that stays after a full day is a sign to get checked. " + SEE_A_PROFESSIONAL)
    elif a.tight is False:
        out.append("No lasting tightness: good. Keep the movements small and regular.")
    if a.natural is False:
        out.append(
            "Not natural yet is normal in the first weeks: do each movement at its smallest dose; "
            "a new region joins only once a week."
        )
    elif a.natural:
        out.append("The movements are becoming a habit: that is the aim.")
    if a.noise:
        out.append("Cues that have become background noise stop working: fewer of them helps.")
    elif a.noise is False:
        out.append("The cues still get your attention: keep the settings as they are.")
    return out


class SaveError(UsageError):
    """The answers could not be written (the database busy too long, disk full...): exit 1."""

    exit_status = 1


def save(db: Path, a: Answers, t: float, today: str) -> None:
    """Store the answers (see the module docstring for how this is safe beside the daemon).

    StoreError (exit 2) for a database that cannot be used as it is; SaveError
    (exit 1) when the write itself fails.
    """
    from .adapters.store import Store
    from .errors import StoreError

    store = Store.open(db) if not db.exists() else Store.open_existing(db)
    store.add_checkin(today, t, a.tight, a.noise, a.natural, "pain" if a.pain else None)
    try:
        store.close()  # one short transaction, then close
    except StoreError as exc:
        why = str(exc)
        if why.endswith("will retry)"):
            why = why.rsplit(" (", 1)[0]
        raise SaveError(f"checkin: not saved: {why}") from None


@dataclass
class Change:
    name: str  # fewer | rest
    summary: str
    details: list[str] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)


def _every(cue_id: str, minutes: float, trigger: str) -> str:
    what = {"typing": "of typing", "mouse": "of mouse use", "active": "at the desk"}[trigger]
    return f"{catalog.BY_ID[cue_id].title.lower()} every {minutes:g} min {what}"


def fewer(cfg: Config, prog: Progress) -> Change:
    edits: list[Edit] = []
    details: list[str] = []
    for cue_id, s in cfg.cues.items():
        if not s.enabled:
            continue
        new = float(math.ceil(s.every_min * FEWER_FACTOR))
        edits.append((("cues", cue_id, "every_min"), new))
        if catalog.BY_ID[cue_id].region in prog.active_regions or not prog.active_regions:
            details.append(f"{_every(cue_id, s.every_min, s.trigger)} -> every {new:g} min")
    return Change(
        "fewer",
        f"fewer cues: every interval {FEWER_FACTOR:g} times as long (about a third fewer cues)",
        details,
        edits,
    )


def rest_candidates(cfg: Config, prog: Progress) -> list[str]:
    """Active regions with an enabled cue; resting one needs another to carry on."""
    regions = prog.active_regions or catalog.REGIONS[:1]
    return [r for r in regions if any(s.enabled and catalog.BY_ID[c].region == r for c, s in cfg.cues.items())]


def noisiest(candidates: list[str], recent: dict[str, tuple[int, int]]) -> str:
    """The region whose cues were moved after least (share of done or likely done)."""

    def key(r: str) -> tuple[float, int, int]:
        cues, moved = recent.get(r, (0, 0))
        share = moved / cues if cues else 1.0  # no data: assume it works
        return (share, -cues, catalog.REGIONS.index(r))

    with_data = [r for r in candidates if recent.get(r, (0, 0))[0]]
    return min(with_data, key=key) if with_data else candidates[0]


def rest(cfg: Config, prog: Progress, region: str, recent: dict[str, tuple[int, int]]) -> Change:
    ids = [c for c, s in cfg.cues.items() if s.enabled and catalog.BY_ID[c].region == region]
    cues, moved = recent.get(region, (0, 0))
    why = f" (moved after {moved} of its {cues} cues in the last 14 days)" if cues else ""
    others = [r for r in rest_candidates(cfg, prog) if r != region]
    return Change(
        "rest",
        f"other regions: give {catalog.REGION_NAMES[region].lower()} a rest{why}; "
        f"{', '.join(others)} carry on",
        [f"switch off {c}" for c in ids],
        [(("cues", c, "enabled"), False) for c in ids],
    )


def propose(
    cfg: Config, prog: Progress, recent: dict[str, tuple[int, int]], region: str | None = None
) -> tuple[list[Change], str | None]:
    """The changes on offer, and why "rest" is not among them (or None)."""
    changes = [fewer(cfg, prog)]
    candidates = rest_candidates(cfg, prog)
    if len(candidates) < 2:
        note = "only one region is active so far"
        if len(prog.active_regions) >= 2:
            note = "only one active region has cues switched on"
        elif prog.next_region and prog.next_date:
            note += f" ({prog.next_region} joins on {prog.next_date})"
        return changes, note
    if region is not None and region not in candidates:
        return changes, f"{region} is not an active region with cues switched on ({', '.join(candidates)} are)"
    changes.append(rest(cfg, prog, region or noisiest(candidates, recent), recent))
    return changes, None
