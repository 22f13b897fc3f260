// The listener's recently played tracks.
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, Empty, Guard, Status } from '../components.js';
import { formatDate, formatDuration } from '../format.js';
import { player } from '../player.js';
import { Icon } from '../icons.js';
import { HeldListens } from './anomalies.js';
import { webURL } from '../federation.js';

export function Recent() {
  useTitle('Recently played');
  return html`<div class="page">
    <h1>Recently played</h1>
    <${Guard}><${HeldListens} /><${Listens} /></${Guard}>
  </div>`;
}

function Listens() {
  const list = useFetch('/api/v1/me/listens?limit=20');
  if (!list.data) return html`<${Status} result=${list} />`;
  const items = list.data.items || [];
  if (!items.length) return html`<${Empty}><p>Nothing played yet. <a href="/">Find something to listen to.</a></p></${Empty}>`;
  return html`<ol class="tracks" data-testid="recent-listens">
    ${items.map(({ track: t, remote: r, started_at, heard_ms }, i) =>
      r
        ? html`<${RemoteListen} key=${`${r.id}-${i}`} r=${r} started_at=${started_at} heard_ms=${heard_ms} />`
        : html`<li class="track-row" key=${`${t.id}-${i}`}>
        <${Cover} url=${t.cover_url} title=${t.title} size=${48} />
        <button type="button" class="icon-btn" aria-label=${`Play ${t.title}`} disabled=${t.status !== 'ready'}
          onClick=${() => player.play(t)}><${Icon} name="play" /></button>
        <div class="meta">
          <a class="title" href=${`/app/tracks/${t.id}`}>${t.title}</a>
          <span class="sub"><a href=${`/app/artists/${t.artist_id}`}>${t.artist}</a> · ${formatDate(started_at)}</span>
        </div>
        <span class="dur" title="Time listened">${formatDuration(heard_ms)} of ${formatDuration(t.duration_ms)}</span>
      </li>`,
    )}
  </ol>`;
}

// RemoteListen is a play of another server's track, played through this
// node: what that server said of it, as text, linked only over http(s).
function RemoteListen({ r, started_at, heard_ms }) {
  const page = webURL(r.page_url) || webURL(r.id);
  const host = webURL(r.id)?.host || '';
  return html`<li class="track-row">
    <${Cover} url="" title=${r.title} size=${48} />
    <span class="icon-btn" aria-hidden="true"></span>
    <div class="meta">
      ${page ? html`<a class="title" href=${page.href} rel="noopener noreferrer">${r.title}</a>` : html`<span class="title">${r.title}</span>`}
      <span class="sub">${r.artist || host} · ${host} · ${formatDate(started_at)}</span>
    </div>
    <span class="dur" title="Time listened">${formatDuration(heard_ms)} of ${formatDuration(r.duration_ms)}</span>
  </li>`;
}
