/**
 * Groups of per-round stats a learner (or a part of the training loop) declares as its own
 * diagnostics: the stats whose key starts with `<prefix>/`, under a title. The Learner internals
 * view leads with the declared groups of the run's learner and loop, titled, so a learner's
 * influence estimates or a wrapper's trigger rates are shown by default and never cut by the
 * view's cap on charts; undeclared prefixes are still shown, after them, by prefix.
 */
export interface StatGroup {
  /** Key prefix without the slash, e.g. `influence` for `influence/F_0`. */
  readonly prefix: string;
  readonly title: string;
  readonly doc?: string;
}
