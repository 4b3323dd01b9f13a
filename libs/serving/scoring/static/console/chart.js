// A small line chart as inline SVG (no library): one series of [x, y] points, its range on the
// axis, a dot per point with the value as its tooltip, and an optional marked x (the best epoch).
import { s } from './dom.js';

const W = 300;
const H = 120;
const M = { left: 46, right: 10, top: 10, bottom: 24 };

/**
 * @param {string} title   what the series is, e.g. "training loss"
 * @param {Array<[number, number]>} points  x ascending
 * @param {{ mark?: number, digits?: number, cls?: string }} options
 */
export function lineChart(title, points, options = {}) {
  const digits = options.digits ?? 3;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.05, y1 + Math.abs(y1 || 1) * 0.05];
  const px = (x) => M.left + (x1 === x0 ? (W - M.left - M.right) / 2 : ((x - x0) / (x1 - x0)) * (W - M.left - M.right));
  const py = (y) => M.top + (1 - (y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const bottom = H - M.bottom;
  const mark = options.mark;
  return s(
    'svg',
    { class: `chart ${options.cls ?? ''}`, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, width: W, height: H },
    s('title', {}, title),
    s('line', { class: 'axis', x1: M.left, y1: M.top, x2: M.left, y2: bottom }),
    s('line', { class: 'axis', x1: M.left, y1: bottom, x2: W - M.right, y2: bottom }),
    s('text', { class: 'tick', x: M.left - 4, y: M.top + 4, 'text-anchor': 'end' }, y1.toFixed(digits)),
    s('text', { class: 'tick', x: M.left - 4, y: bottom, 'text-anchor': 'end' }, y0.toFixed(digits)),
    s('text', { class: 'tick', x: M.left, y: H - 8, 'text-anchor': 'start' }, `epoch ${x0}`),
    s('text', { class: 'tick', x: W - M.right, y: H - 8, 'text-anchor': 'end' }, String(x1)),
    mark !== undefined && xs.includes(mark) ? s('line', { class: 'mark', x1: px(mark), y1: M.top, x2: px(mark), y2: bottom }) : null,
    s('polyline', { class: 'series', points: points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ') }),
    points.map(([x, y]) => s('circle', { class: 'dot', cx: px(x).toFixed(1), cy: py(y).toFixed(1), r: 2.5 }, s('title', {}, `epoch ${x}: ${y.toFixed(digits + 1)}`))),
  );
}
