/**
 * Accessibility checks run inside the page (passed to `page.evaluate`): WCAG AA text contrast
 * and a visible focus indicator. They read computed styles, so they check what the browser
 * actually paints, in whichever colour scheme the page is in.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
// These run in the browser; the node-side type check has no DOM library, so the few globals
// they touch are declared loosely here rather than adding DOM types to every Node file.
declare const document: any;
declare const getComputedStyle: (el: any) => any;
declare const NodeFilter: { SHOW_TEXT: number };
type Element = any;
type HTMLElement = any;

export interface ContrastFailure {
  text: string;
  selector: string;
  color: string;
  background: string;
  ratio: number;
  needed: number;
}

/**
 * Every visible text node's contrast against the background it sits on (the nearest opaque
 * ancestor background, blending translucent layers): 4.5:1, or 3:1 for large text (24 px,
 * or 18.66 px bold). Disabled controls and placeholders are exempt, as in WCAG 1.4.3.
 */
export function contrastFailures(): ContrastFailure[] {
  type RGBA = [number, number, number, number];
  const parse = (c: string): RGBA => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top: RGBA, under: RGBA): RGBA => {
    const a = top[3] + under[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    const ch = (i: number) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a;
    return [ch(0), ch(1), ch(2), a];
  };
  const lum = (c: RGBA) => {
    const f = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el: Element | null): RGBA => {
    const layers: RGBA[] = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let acc: RGBA = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) acc = over(layers[i], acc);
    return acc;
  };
  const path = (el: Element) => {
    const parts: string[] = [];
    for (let e: Element | null = el; e && parts.length < 3; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.classList.length ? '.' + [...e.classList].join('.') : ''));
    }
    return parts.join(' > ');
  };
  const out: ContrastFailure[] = [];
  const seen = new Set<Element>();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = (n.textContent ?? '').trim();
    const el = n.parentElement;
    if (!text || !el || seen.has(el)) continue;
    seen.add(el);
    // Exempt as WCAG 1.4.3 exempts them: hidden text, disabled controls, and the replay's
    // observation glyph grid (a picture of the agent's view, one symbol per cell).
    if (el.closest('[aria-hidden="true"], .sr-only, svg, canvas, option, [disabled], :disabled, .obs .view')) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || Number(cs.opacity) === 0) continue;
    let opacity = 1;
    for (let e: Element | null = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
    const bg = background(el);
    const fg = parse(cs.color);
    if (fg[3] === 0) continue; // transparent text paints nothing
    const fgOnBg = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const l1 = lum(fgOnBg);
    const l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio + 1e-6 < needed) {
      out.push({ text: text.slice(0, 40), selector: path(el), color: cs.color, background: `rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`, ratio: Math.round(ratio * 100) / 100, needed });
    }
  }
  return out;
}

/** The focused element's focus indicator: an outline or a box-shadow ring, and where it is. */
export function focusIndicator(): { tag: string; label: string; visible: boolean } | null {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  const ring = cs.boxShadow !== 'none' && cs.boxShadow !== '';
  return {
    tag: el.tagName.toLowerCase(),
    label: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40),
    visible: outline || ring,
  };
}
