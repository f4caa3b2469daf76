/**
 * A boolean that flips only after the opposite condition has been observed continuously for a
 * confirmation time (debounce / dwell): alerts, geofences and threshold monitors use it so that a
 * short glitch or GNSS jitter does not produce events. Confirmation times may differ per direction.
 */
export class ConfirmedState {
  /** 1 true, 0 false, -1 not known yet. */
  value: -1 | 0 | 1;
  /** When the condition started to disagree with `value` (NaN: it agrees). */
  sinceUs = NaN;
  /** After a flip: when the condition that caused it began. */
  changedAtUs = NaN;

  /**
   * @param initial  the state before any observation; -1 (unknown) makes the first observation set the
   *                 state silently (no flip reported)
   */
  constructor(
    private readonly toTrueUs: number,
    private readonly toFalseUs: number,
    initial: -1 | 0 | 1,
  ) {
    this.value = initial;
  }

  /** Feeds the instantaneous condition at `t`; true when `value` flipped. */
  observe(condition: boolean, t: number): boolean {
    const c = condition ? 1 : 0;
    if (this.value === -1) {
      this.value = c;
      return false;
    }
    if (c === this.value) {
      this.sinceUs = NaN;
      return false;
    }
    if (this.sinceUs !== this.sinceUs) this.sinceUs = t;
    return this.check(t);
  }

  /** Completes a pending flip once its confirmation time has passed (call from tick). */
  check(nowUs: number): boolean {
    if (this.sinceUs !== this.sinceUs || this.value === -1) return false;
    if (nowUs - this.sinceUs < (this.value === 1 ? this.toFalseUs : this.toTrueUs)) return false;
    this.value = this.value === 1 ? 0 : 1;
    this.changedAtUs = this.sinceUs;
    this.sinceUs = NaN;
    return true;
  }
}
