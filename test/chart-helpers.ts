import type { Page } from 'playwright-core';

/** A line of text ECharts drew, the four corners of its box on the page (turned as the text is), and which text it is a line of. */
export interface Drawn {
  text: string;
  /** The same number for the lines of one label (a name broken into lines). */
  label: number;
  corners: Array<[number, number]>;
}

/**
 * The text ECharts drew in the chart of the element `id` (its canvas), line by line. Read from the chart's own drawing
 * (zrender's display list), as no DOM element holds it.
 */
export async function drawnText(page: Page, id: string): Promise<Drawn[]> {
  return (await page.evaluate(`((id) => {
    const chart = window.echarts.getInstanceByDom(document.getElementById(id));
    const labels = [];
    return chart.getZr().storage.getDisplayList(true)
      .filter((el) => el.type === 'tspan' && el.style.text && !el.ignore && !el.invisible && !(el.parent && el.parent.ignore))
      .map((el) => {
        const r = el.getBoundingRect();
        const m = el.getComputedTransform() || [1, 0, 0, 1, 0, 0];
        const corners = [[r.x, r.y], [r.x + r.width, r.y], [r.x + r.width, r.y + r.height], [r.x, r.y + r.height]];
        const owner = el.parent || el;
        if (!labels.includes(owner)) labels.push(owner);
        return { text: el.style.text, label: labels.indexOf(owner), corners: corners.map(([x, y]) => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]]) };
      });
  })(${JSON.stringify(id)})`)) as Drawn[];
}

/** Whether two drawn boxes (turned rectangles) overlap by more than a pixel: no axis of either separates them. */
export function overlap(a: Drawn['corners'], b: Drawn['corners']): boolean {
  for (const poly of [a, b]) {
    for (let i = 0; i < 4; i++) {
      const [x1, y1] = poly[i]!;
      const [x2, y2] = poly[(i + 1) % 4]!;
      const len = Math.hypot(x2 - x1, y2 - y1);
      if (len === 0) continue;
      const axis = [(y1 - y2) / len, (x2 - x1) / len] as const;
      const project = (p: Drawn['corners']) => p.map(([x, y]) => x * axis[0] + y * axis[1]);
      const pa = project(a);
      const pb = project(b);
      if (Math.min(Math.max(...pa), Math.max(...pb)) - Math.max(Math.min(...pa), Math.min(...pb)) <= 1) return false;
    }
  }
  return true;
}

/** The pairs of drawn lines one over another, as "a / b": none where a chart is readable. */
export function overlapping(drawn: Drawn[]): string[] {
  return drawn.flatMap((a, i) => drawn.slice(i + 1).filter((b) => overlap(a.corners, b.corners)).map((b) => `${a.text} / ${b.text}`));
}

/** Each label's text as drawn, its lines put back together (without the spaces where a name was broken). */
export function labelTexts(drawn: Drawn[]): string[] {
  const lines = new Map<number, string[]>();
  for (const d of drawn) lines.set(d.label, [...(lines.get(d.label) ?? []), d.text]);
  return [...lines.values()].map((l) => l.join('').replace(/\s/g, ''));
}
