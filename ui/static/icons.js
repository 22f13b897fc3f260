// Inline SVG icons, drawn on a 24×24 grid. Icons are decorative
// (aria-hidden): the buttons that hold them carry the accessible name.
import { html } from './html.js';

// Each icon is a list of [path, filled]; unfilled paths are stroked.
const icons = {
  play: [['M8 5v14l11-7z', true]],
  pause: [['M6 5h4v14H6zM14 5h4v14h-4z', true]],
  next: [['M5 6l9 6-9 6zM16 6h3v12h-3z', true]],
  prev: [['M19 6l-9 6 9 6zM5 6h3v12H5z', true]],
  volume: [['M4 9v6h4l5 4V5L8 9z', true], ['M16 9a4 4 0 0 1 0 6M18.5 6.5a7.5 7.5 0 0 1 0 11', false]],
  muted: [['M4 9v6h4l5 4V5L8 9z', true], ['M16 9.5l5 5M21 9.5l-5 5', false]],
  queue: [['M4 6h13M4 11h13M4 16h7', false], ['M15 14v7l5-3.5z', true]],
  add: [['M12 5v14M5 12h14', false]],
  close: [['M6 6l12 12M18 6L6 18', false]],
  search: [['M10.5 4a6.5 6.5 0 1 0 0 13 6.5 6.5 0 1 0 0-13M15.5 15.5L20 20', false]],
  download: [['M12 4v11M7 10l5 5 5-5M5 20h14', false]],
  playlist: [['M4 6h11M4 11h11M4 16h7M18 13v8M14 17h8', false]],
  check: [['M5 12.5l4.5 4.5L19 7', false]],
  up: [['M12 19V5M6 11l6-6 6 6', false]],
  down: [['M12 5v14M6 13l6 6 6-6', false]],
};

export function Icon({ name }) {
  return html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    ${icons[name].map(
      ([d, filled]) => html`<path d=${d} fill=${filled ? 'currentColor' : 'none'}
        stroke=${filled ? 'none' : 'currentColor'} stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />`,
    )}
  </svg>`;
}
