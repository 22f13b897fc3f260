// Counts how much of a track was actually heard. The server pays artists
// for listens it can verify, so the player reports real playback time only:
// seeking, pausing and stalls must not add to it.

// The largest forward step of the playback position between two timeupdate
// events that still counts as listening. Browsers fire timeupdate every
// 15–250 ms during playback, so a bigger step is a jump, not sound.
const MAX_STEP_SECONDS = 1.5;

export class ListenMeter {
  // thresholdMs is the server's bar for a listen; a track shorter than that
  // qualifies when heard in full, so the target is the smaller of the two.
  constructor(thresholdMs, durationMs = 0) {
    this.targetMs = durationMs > 0 ? Math.min(thresholdMs, durationMs) : thresholdMs;
    this.heard = 0;
    this.last = null;
    this.reached = false;
  }

  get heardMs() {
    return Math.round(this.heard);
  }

  // update takes the position (seconds) at a timeupdate and whether sound
  // was playing (not paused, not seeking). It returns true exactly once:
  // when the heard time first reaches the target.
  update(positionSeconds, playing) {
    const step = this.last === null ? 0 : positionSeconds - this.last;
    this.last = positionSeconds;
    if (playing && step > 0 && step < MAX_STEP_SECONDS) {
      this.heard += step * 1000;
    }
    if (!this.reached && this.heard >= this.targetMs) {
      this.reached = true;
      return true;
    }
    return false;
  }

  // jump moves the reference position without counting anything: for seeks
  // and for the start position of a new playback.
  jump(positionSeconds) {
    this.last = positionSeconds;
  }
}
