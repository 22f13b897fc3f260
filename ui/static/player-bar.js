// The persistent bottom bar: transport controls, seek bar, volume and the
// queue panel. It renders player.store and never owns playback state.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { Icon } from './icons.js';
import { Cover } from './components.js';
import { formatDuration, formatTime } from './format.js';
import { player } from './player.js';
import { useStore } from './store.js';

export function PlayerBar() {
  const s = useStore(player.store);
  const track = s.queue[s.index];
  // While the seek thumb is dragged, show where it is rather than where
  // playback is; seek once on release instead of on every step.
  const [scrub, setScrub] = useState(null);
  const [queueOpen, setQueueOpen] = useState(false);
  const position = scrub ?? s.currentTime;
  const duration = s.duration || 0;

  return html`<section class="player" aria-label="Player">
    <div class="player-track">
      ${track
        ? html`<${Cover} url=${track.cover_url} title=${track.title} size=${48} />
            ${track.remote
              ? html`<${RemoteMeta} track=${track} />`
              : html`<div class="meta">
                  <a class="title" href=${`/app/tracks/${track.id}`}>${track.title}</a>
                  <a class="sub" href=${`/app/artists/${track.artist_id}`}>${track.artist}</a>
                </div>`}`
        : html`<span class="sub">Nothing playing</span>`}
    </div>

    <div class="player-main">
      <div class="transport">
        <button type="button" class="icon-btn" data-testid="player-prev" aria-label="Previous track"
          disabled=${!track} onClick=${() => player.prev()}><${Icon} name="prev" /></button>
        <button type="button" class="icon-btn play-btn" data-testid="player-toggle"
          aria-label=${s.playing ? 'Pause' : 'Play'} disabled=${!s.queue.length}
          onClick=${() => player.toggle()}>
          ${s.loading ? html`<span class="spinner" aria-hidden="true"></span>` : html`<${Icon} name=${s.playing ? 'pause' : 'play'} />`}
        </button>
        <button type="button" class="icon-btn" data-testid="player-next" aria-label="Next track"
          disabled=${s.index + 1 >= s.queue.length} onClick=${() => player.next()}><${Icon} name="next" /></button>
      </div>
      <div class="seek">
        <span class="time">${formatTime(position)}</span>
        <input type="range" data-testid="player-seek" aria-label="Seek" min="0" max=${duration} step="any"
          value=${Math.min(position, duration)} disabled=${!track}
          aria-valuetext=${`${formatTime(position)} of ${formatTime(duration)}`}
          onInput=${(e) => setScrub(Number(e.currentTarget.value))}
          onChange=${(e) => {
            player.seek(Number(e.currentTarget.value));
            setScrub(null);
          }} />
        <span class="time">${formatTime(duration)}</span>
      </div>
      ${s.loading && html`<span class="visually-hidden" role="status">Loading…</span>`}
      ${s.error && html`<p class="player-error" role="alert">${s.error}</p>`}
      ${!s.error && s.listenError && html`<p class="player-note">${s.listenError}</p>`}
    </div>

    <div class="player-side">
      <button type="button" class="icon-btn" aria-label=${s.muted ? 'Unmute' : 'Mute'} aria-pressed=${s.muted}
        onClick=${() => player.toggleMute()}><${Icon} name=${s.muted || s.volume === 0 ? 'muted' : 'volume'} /></button>
      <input type="range" class="volume" data-testid="player-volume" aria-label="Volume" min="0" max="1" step="0.05"
        value=${s.muted ? 0 : s.volume} onInput=${(e) => player.setVolume(Number(e.currentTarget.value))} />
      <button type="button" class="icon-btn" aria-label="Queue" aria-expanded=${queueOpen} aria-controls="queue-panel"
        onClick=${() => setQueueOpen(!queueOpen)}><${Icon} name="queue" /></button>
    </div>

    ${queueOpen && html`<${QueuePanel} queue=${s.queue} index=${s.index} onClose=${() => setQueueOpen(false)} />`}
  </section>`;
}

// RemoteMeta describes a track streamed from another node: it has no page
// here, so the title opens its page there, and the artist its catalogue.
function RemoteMeta({ track }) {
  return html`<div class="meta">
    ${track.page_url
      ? html`<a class="title" href=${track.page_url} target="_blank" rel="noopener noreferrer"
          title=${`Open on ${track.host}`}>${track.title}<span class="visually-hidden"> (opens on ${track.host} in a new tab)</span></a>`
      : html`<span class="title">${track.title}</span>`}
    <a class="sub" href=${track.catalogue_url}>${track.artist}</a>
    <span class="sub remote-from" data-testid="player-remote">Streamed from ${track.host}</span>
  </div>`;
}

function QueuePanel({ queue, index, onClose }) {
  return html`<div class="queue-panel" id="queue-panel" role="region" aria-label="Queue">
    <header>
      <h2>Queue</h2>
      <button type="button" class="icon-btn" aria-label="Close queue" onClick=${onClose}><${Icon} name="close" /></button>
    </header>
    ${queue.length === 0
      ? html`<p class="sub">The queue is empty. Play a track or add some with +.</p>`
      : html`<ol>
          ${queue.map(
            (t, i) => html`<li key=${`${t.id}-${i}`} class=${i === index ? 'current' : ''}>
              <button type="button" class="queue-item" aria-current=${i === index ? 'true' : undefined}
                onClick=${() => player.jump(i)}>
                <span class="title">${t.title}</span>
                <span class="sub">${t.artist}${t.remote ? ` · ${t.host}` : ''} · ${formatDuration(t.duration_ms)}</span>
              </button>
              ${i !== index &&
              html`<button type="button" class="icon-btn" aria-label=${`Remove ${t.title} from queue`}
                onClick=${() => player.remove(i)}><${Icon} name="close" /></button>`}
            </li>`,
          )}
        </ol>`}
  </div>`;
}
