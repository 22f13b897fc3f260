// Formatting of times, sizes and dates for display.

export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export const formatDuration = (ms) => formatTime((ms || 0) / 1000);

export function formatBytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'kB', 'MB', 'GB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1000)));
  return `${(n / 1000 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const plural = (n, one, many = one + 's') => `${n} ${n === 1 ? one : many}`;

// Covers replaced in this tab: the URL the API links → when. Browsers may
// keep a cover for five minutes (max-age=300) under its unchanged URL, so a
// replaced one is asked for with a query they have not cached.
const replacedCovers = new Map();

export const coverReplaced = (url) => url && replacedCovers.set(url, Date.now());

// coverAt returns the cover rendition for a display size: the server
// renders cover-200.jpg next to the cover-600.jpg that the API links.
export function coverAt(url, size) {
  if (!url) return url;
  const version = replacedCovers.get(url);
  const rendition = size <= 200 ? url.replace(/cover-600\.jpg$/, 'cover-200.jpg') : url;
  return version ? `${rendition}?v=${version}` : rendition;
}

// formatMoney writes micro-USD (integers, as the API sends them) in
// dollars: to the cent when the amount is whole cents, otherwise with all
// six decimals, so that amounts shown always add up exactly.
export function formatMoney(micro) {
  const n = Math.trunc(Number(micro) || 0);
  const sign = n < 0 ? '−' : '';
  const abs = Math.abs(n);
  const dollars = Math.floor(abs / 1e6).toLocaleString('en-US');
  const frac = String(abs % 1e6).padStart(6, '0');
  return `${sign}$${dollars}.${frac.endsWith('0000') ? frac.slice(0, 2) : frac}`;
}
