/**
 * Chart scenes (src/render/chartScene.ts) in the webview: drawn as SVG elements built node by node
 * (text through textContent, never parsed markup), and rasterised for PNG from the same SVG text an
 * SVG export writes, so the two files show the same picture.
 */
import { ChartScene, LegendSpec, legendScene, sceneToSvg } from '../../../src/render/chartScene';
import type { ThemeColors } from './theme';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svgElement<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The scene as an <svg> element (role img, named by the scene's title). */
export function sceneElement(scene: ChartScene, className?: string): SVGSVGElement {
  const svg = svgElement('svg', { width: scene.width, height: scene.height, viewBox: `0 0 ${scene.width} ${scene.height}`, role: 'img', 'aria-label': scene.title, 'font-size': 12 });
  svg.style.fontFamily = scene.font;
  if (className) svg.setAttribute('class', className);
  const title = svgElement('title', {});
  title.textContent = scene.title;
  svg.append(title, svgElement('rect', { width: '100%', height: '100%', fill: scene.background }));
  for (const item of scene.items) {
    if (item.kind === 'rect') {
      const rect = svgElement('rect', { x: item.x, y: item.y, width: Math.max(0, item.width), height: Math.max(0, item.height), fill: item.fill });
      if (item.stroke) rect.setAttribute('stroke', item.stroke);
      if (item.title) {
        const t = svgElement('title', {});
        t.textContent = item.title;
        rect.append(t);
      }
      svg.append(rect);
    } else if (item.kind === 'line') {
      const line = svgElement('line', { x1: item.x1, y1: item.y1, x2: item.x2, y2: item.y2, stroke: item.stroke, 'stroke-width': item.width ?? 1 });
      if (item.dash) line.setAttribute('stroke-dasharray', item.dash);
      svg.append(line);
    } else {
      const attrs: Record<string, string | number> = { fill: item.fill };
      if (item.rotate) attrs.transform = `translate(${item.x} ${item.y}) rotate(${item.rotate})`;
      else Object.assign(attrs, { x: item.x, y: item.y });
      if (item.anchor && item.anchor !== 'start') attrs['text-anchor'] = item.anchor;
      if (item.size) attrs['font-size'] = item.size;
      if (item.weight === 'bold') attrs['font-weight'] = 600;
      const text = svgElement('text', attrs);
      text.style.whiteSpace = 'pre';
      text.textContent = item.text;
      svg.append(text);
    }
  }
  return svg;
}

/** The scene as a PNG data: URL, drawn from its SVG text at `scale` × its size. */
export function scenePng(scene: ChartScene, scale = 2): Promise<string> {
  const svg = sceneToSvg(scene);
  const bytes = new TextEncoder().encode(svg);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  const image = new Image();
  return new Promise((resolve, reject) => {
    image.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(scene.width * scale);
      canvas.height = Math.ceil(scene.height * scale);
      const ctx = canvas.getContext('2d');
      if (!ctx) {
        reject(new Error('No 2D canvas to draw the PNG on.'));
        return;
      }
      ctx.scale(scale, scale);
      ctx.drawImage(image, 0, 0);
      resolve(canvas.toDataURL('image/png'));
    };
    image.onerror = () => reject(new Error('The chart could not be drawn as PNG.'));
    image.src = `data:image/svg+xml;base64,${btoa(binary)}`;
  });
}

/** The palette of scenes drawn in this theme. */
export function themePalette(t: ThemeColors) {
  return { foreground: t.foreground, muted: t.muted, background: t.background, font: t.font, positive: t.positive, negative: t.negative, grid: t.border };
}

/** A colour scale legend as an element, drawn in the theme's colours. */
export function legendElement(spec: LegendSpec, theme: ThemeColors, width = 220): SVGSVGElement {
  return sceneElement(legendScene(spec, width, themePalette(theme)), 'legend');
}
