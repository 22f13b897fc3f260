// An artist's own tracks in every state, refreshed while any is processing.
import { html } from '../html.js';
import { useFetch, useInterval, useTitle } from '../hooks.js';
import { Empty, Guard, Status, StatusBadge } from '../components.js';
import { formatDate, formatDuration } from '../format.js';
import { player } from '../player.js';

const REFRESH_MS = 3000;

export function MyMusic() {
  useTitle('My music');
  return html`<div class="page">
    <div class="section-head">
      <h1>My music</h1>
      <a class="btn primary" href="/app/upload">Upload</a>
    </div>
    <${Guard} role="artist"><${OwnTracks} /></${Guard}>
  </div>`;
}

function OwnTracks() {
  const list = useFetch('/api/v1/me/tracks');
  const items = list.data?.items || [];
  useInterval(list.reload, REFRESH_MS, items.some((t) => t.status === 'processing'));
  if (!list.data) return html`<${Status} result=${list} />`;
  if (!items.length) {
    return html`<${Empty}><p>You have not uploaded anything yet.</p><a class="btn primary" href="/app/upload">Upload music</a></${Empty}>`;
  }
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Title</th><th scope="col">Album</th><th scope="col">Length</th><th scope="col">Plays</th><th scope="col">Status</th><th scope="col">Uploaded</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
      ${items.map(
        (t) => html`<tr key=${t.id}>
          <td><a href=${`/app/tracks/${t.id}`}>${t.title}</a></td>
          <td>${t.album}</td>
          <td>${formatDuration(t.duration_ms)}</td>
          <td>${t.play_count ?? 0}</td>
          <td>
            ${t.status === 'ready' && !t.hidden ? 'ready' : html`<${StatusBadge} track=${t} />`}
            ${t.status === 'processing' && t.job && html` <span class="sub">${t.job.progress ?? 0}%</span>`}
            ${t.status === 'failed' && html`<div class="error-text">${t.error || t.job?.last_error}</div>`}
          </td>
          <td>${formatDate(t.created_at)}</td>
          <td>${t.status === 'ready' && html`<button type="button" class="btn small" onClick=${() => player.play(t)}>Play</button>`}</td>
        </tr>`,
      )}
    </tbody>
  </table></div>`;
}
