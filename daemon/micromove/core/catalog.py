"""The cue catalog: every micro-movement micromove can cue, as data.

Ids are stable names: the config file, the database and `mmctl` use them,
so an id never changes once released. Doses and the intervals the article gives are carried over;
where the article gives no interval, the default chosen here is explained in
the comment beside it. Instructions are written to fit one notification line.

Triggers: the hands cues follow their own signal (wrist pulse and finger piano
follow typing, grip modulation follows the mouse); the scapular squeeze is
tied to typing because the article places it "while typing"; everything else
follows presence (`active`: any input at all), since sitting is the load.

Nothing here does I/O; importing it is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Trigger = Literal["typing", "mouse", "active"]
TRIGGERS: Final[tuple[Trigger, ...]] = ("typing", "mouse", "active")


@dataclass(frozen=True, slots=True)
class Movement:
    id: str
    region: str
    title: str
    instruction: str
    dose: str
    every_min: float
    trigger: Trigger
    seconds: int  # roughly how long doing it takes, used to infer "likely done"


# Regions in the order progression adds them, one a week (the article: start
# with one region and add one more each week). Hands come first: they are the
# product's focus and the only cues driven by the typing and mouse signals.
# Then the screen-facing upper body, where desk strain shows first (eyes,
# shoulder blades, neck), then the trunk (core), the pelvis, the feet, and
# finally breathing, whose cues build on the core brace learned earlier.
REGIONS: Final[tuple[str, ...]] = (
    "hands",
    "eyes",
    "back",
    "neck",
    "core",
    "hips",
    "feet",
    "breath",
)

REGION_NAMES: Final[dict[str, str]] = {
    "hands": "Hands and wrists",
    "eyes": "Eyes",
    "back": "Shoulder blades and upper back",
    "neck": "Neck",
    "core": "Core",
    "hips": "Pelvis and hips",
    "feet": "Feet and ankles",
    "breath": "Breathing",
}

MOVEMENTS: Final[tuple[Movement, ...]] = (
    # --- Hands, wrists, fingers -------------------------------------------
    Movement(
        "hands.wrist_pulse", "hands", "Wrist pulse",
        "Elbow still: turn palm up for 2 s, palm down for 2 s.",
        "4-6 cycles", 20, "typing", 20,
    ),
    Movement(
        "hands.finger_piano", "hands", "Finger piano",
        "Roll your fingertips on the desk, thumb to little finger, then let go.",
        # The article gives no interval ("during long typing"): every 15 min of
        # typing puts it between two wrist pulses without crowding them.
        "5 s", 15, "typing", 5,
    ),
    Movement(
        "hands.grip_modulation", "hands", "Grip modulation",
        "Ease your hold on the mouse to feather-light, then a touch firmer; alternate.",
        # No interval in the article ("during long mouse use"): 10 min of
        # continuous mouse use, since a static grip tires the forearm quickly.
        "a few seconds", 10, "mouse", 5,
    ),
    # --- Core --------------------------------------------------------------
    Movement(
        "core.abdominal_brace", "core", "Abdominal brace",
        "Draw your navel softly toward your spine, hold, let go.",
        # The article says every 10-15 min; 15 keeps the whole catalog from
        # turning into noise once every region is active.
        "hold 3-5 s", 15, "active", 5,
    ),
    Movement(
        "core.pelvic_floor_lift", "core", "Pelvic floor lift",
        "Lift the pelvic floor slightly, as if stopping a flow; hold a moment, release.",
        # No interval given: every 30 min, half as often as the brace it pairs with.
        "a few seconds", 30, "active", 5,
    ),
    Movement(
        "core.diaphragm_sync", "core", "Diaphragm sync",
        "Take a slow belly breath; on the way out, draw your belly in lightly.",
        # No interval given: every 30 min, a calm reset between typing runs.
        "1-3 breaths", 30, "active", 15,
    ),
    # --- Pelvis and hips ---------------------------------------------------
    Movement(
        "hips.pelvic_tilt", "hips", "Pelvic tilt",
        "Seated, rock your pelvis forward for 2-3 s, then back for 2-3 s.",
        "4-6 cycles", 30, "active", 25,
    ),
    Movement(
        "hips.lateral_shift", "hips", "Hip shift",
        "Let your weight drift onto one hip, then the other, and back.",
        # No interval given: every 45 min, staggered against the 30-min tilt.
        "a few rocks", 45, "active", 10,
    ),
    Movement(
        "hips.micro_abduction", "hips", "Knee out",
        "Ease one knee outward a few cm, hold one breath; then the other side.",
        # No interval given: every 45 min, like the hip shift it complements.
        "1 breath a side", 45, "active", 10,
    ),
    # --- Feet and ankles ---------------------------------------------------
    Movement(
        "feet.toe_spread", "feet", "Toe spread",
        "Spread your toes wide for 2 s, then relax them.",
        "2 s", 10, "active", 3,
    ),
    Movement(
        "feet.heel_lift", "feet", "Heel lift",
        "Seated, raise your heels a little, hold a breath, lower them.",
        # No interval given: every 30 min, to keep the calves pumping between
        # the hourly ankle rolls.
        "5-8 reps", 30, "active", 30,
    ),
    Movement(
        "feet.ankle_roll", "feet", "Ankle roll",
        "Turn each ankle a small quarter circle clockwise, then counter-clockwise.",
        "3-4 rotations per ankle", 60, "active", 20,
    ),
    # --- Shoulder blades and upper back -----------------------------------
    Movement(
        "back.scapular_squeeze", "back", "Shoulder-blade squeeze",
        "Pinch your shoulder blades together for 2 s, then release.",
        # The article ties it to typing without an interval: every 20 min of
        # typing, offset from the wrist pulse by its own stretch schedule.
        "2 s", 20, "typing", 3,
    ),
    Movement(
        "back.scapular_clock", "back", "Shoulder-blade clock",
        "Glide your shoulder blades slightly up, then down, smoothly.",
        "3-4 cycles", 60, "active", 15,
    ),
    Movement(
        "back.thoracic_extension", "back", "Chest lift",
        "Push your chest forward a few cm to arch the upper back, then return.",
        # No interval given: every 30 min, a counter to the forward slump.
        "1-3 times", 30, "active", 5,
    ),
    # --- Breathing ---------------------------------------------------------
    Movement(
        "breath.expand_contract", "breath", "Expand and brace",
        "Breathe in and let your ribs widen; breathe out with a light core brace.",
        # No interval given: every 45 min, a few calm breaths.
        "a few breaths", 45, "active", 20,
    ),
    Movement(
        "breath.box_shift", "breath", "Box-breath shift",
        "4 s each: in, weight to the right foot; hold, centre; out, left foot; hold, centre.",
        # No interval given: one box takes 16 s, so once an hour.
        "1 box or more", 60, "active", 16,
    ),
    # --- Eyes and neck -----------------------------------------------------
    Movement(
        "eyes.far_focus", "eyes", "Far focus",
        "Look at something at least 2 m (6 ft) away for 5 s, then come back.",
        "5 s", 15, "active", 5,
    ),
    Movement(
        "neck.head_tilt", "neck", "Head tilt",
        "Tip your head toward one shoulder for a second, then the other; back to neutral.",
        # The article says 2-3 times an hour: every 25 min.
        "1 s a side", 25, "active", 4,
    ),
)

BY_ID: Final[dict[str, Movement]] = {m.id: m for m in MOVEMENTS}
IDS: Final[tuple[str, ...]] = tuple(m.id for m in MOVEMENTS)

# What the product says about itself, wherever it speaks to a person about
# health (README, `mmctl cues`, the weekly check-in).
PREVENTIVE_NOTE: Final[str] = (
    "micromove is a preventive habit tool, not a treatment and never a diagnosis. "
    "If pain persists despite practice, or you notice swelling, numbness or loss "
    "of range of motion, see a physiotherapist or your occupational health service."
)


def region_of(cue_id: str) -> str:
    return BY_ID[cue_id].region
