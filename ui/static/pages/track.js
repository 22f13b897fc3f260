// A track: cover, waveform, play count and details; the owner or an admin
// can edit and delete it, and an admin can hide it.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { Icon } from '../icons.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, EditForm, ErrorBox, Status, StatusBadge } from '../components.js';
import { formatBytes, formatDuration } from '../format.js';
import { player } from '../player.js';
import { navigate } from '../router.js';
import { canEditTrack, isAdmin, useSession } from '../session.js';
import { useStore } from '../store.js';
import { Waveform } from '../waveform.js';

export function TrackPage({ params }) {
  const s = useSession();
  const track = useFetch(`/api/v1/tracks/${params.id}`);
  const t = track.data;
  useTitle(t?.title);
  const now = useStore(player.store, (st) => ({ current: st.queue[st.index]?.id === t?.id, playing: st.playing }));

  // The player announces a verified listen; count it here without a reload.
  useEffect(() => {
    const onVerified = (e) => {
      if (e.detail.trackId === t?.id) track.setData((d) => ({ ...d, play_count: (d.play_count || 0) + 1 }));
    };
    addEventListener('nineten:listen-verified', onVerified);
    return () => removeEventListener('nineten:listen-verified', onVerified);
  }, [t?.id]);

  if (!t) return html`<div class="page"><${Status} result=${track} /></div>`;

  const playing = now.current && now.playing;
  const details = [t.genre, t.year, formatDuration(t.duration_ms)].filter(Boolean);
  return html`<div class="page">
    <header class="page-head">
      <${Cover} url=${t.cover_url} title=${t.title} size=${600} />
      <div>
        <p class="eyebrow">Track <${StatusBadge} track=${t} /></p>
        <h1>${t.title}</h1>
        <p>
          <a href=${`/app/artists/${t.artist_id}`}>${t.artist}</a>
          ${t.album_id && html` · <a href=${`/app/albums/${t.album_id}`}>${t.album}</a>`}
          ${t.track_number > 0 && html` · track ${t.track_number}`}
        </p>
        <p class="sub">${details.join(' · ')}</p>
        <p class="plays"><strong data-testid="play-count">${t.play_count ?? 0}</strong> ${(t.play_count ?? 0) === 1 ? 'play' : 'plays'}</p>
        <div class="actions">
          <button type="button" class="btn primary" data-testid="play-track" disabled=${t.status !== 'ready'}
            onClick=${() => (now.current ? player.toggle() : player.play(t))}>
            <${Icon} name=${playing ? 'pause' : 'play'} /> ${playing ? 'Pause' : 'Play'}
          </button>
          <button type="button" class="btn" disabled=${t.status !== 'ready'} onClick=${() => player.enqueue([t])}>
            <${Icon} name="add" /> Add to queue
          </button>
          ${t.original_url &&
          html`<a class="btn" href=${t.original_url} download=${t.original?.filename || ''}>
            <${Icon} name="download" /> Download original
          </a>`}
        </div>
      </div>
    </header>

    ${t.status === 'ready' && html`<${Waveform} track=${t} />`}
    ${t.status !== 'ready' && html`<${Processing} track=${t} onReload=${track.reload} />`}

    <ul class="tags" aria-label="Tags">
      ${t.genre && html`<li>${t.genre}</li>`}
      ${t.year > 0 && html`<li>${t.year}</li>`}
      ${t.original?.codec && html`<li>${t.original.codec}</li>`}
      ${t.original?.size > 0 && html`<li>${formatBytes(t.original.size)}</li>`}
    </ul>

    ${canEditTrack(s, t) &&
    html`<${TrackEditor} track=${t} admin=${isAdmin(s)} onChange=${(updated) => track.setData(updated)} />`}
  </div>`;
}

function Processing({ track, onReload }) {
  if (track.status === 'failed') {
    return html`<div class="state error" role="alert"><p>Processing failed: ${track.error || track.job?.last_error || 'unknown error'}</p></div>`;
  }
  return html`<div class="state">
    <p>This track is still being processed${track.job ? ` (${track.job.progress ?? 0}%)` : ''}.</p>
    <button type="button" class="btn" onClick=${onReload}>Refresh</button>
  </div>`;
}

const fields = [
  { key: 'title', label: 'Title', required: true },
  { key: 'album', label: 'Album' },
  { key: 'track_number', label: 'Track number', type: 'number' },
  { key: 'year', label: 'Year', type: 'number' },
  { key: 'genre', label: 'Genre' },
];

function TrackEditor({ track, admin, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const act = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const save = async (patch) => onChange(await api.patch(`/api/v1/tracks/${track.id}`, patch));

  const setHidden = (hidden) => act(async () => onChange(await api.patch(`/api/v1/tracks/${track.id}`, { hidden })));

  const remove = () => {
    if (!confirm(`Delete “${track.title}”? This cannot be undone.`)) return;
    act(async () => {
      await api.delete(`/api/v1/tracks/${track.id}`);
      navigate(`/app/artists/${track.artist_id}`);
    });
  };

  return html`<section class="panel">
    <h2>Manage track</h2>
    <${EditForm} fields=${fields} record=${track} onSave=${save} testid="track-edit" />
    <div class="actions danger-zone">
      <${ErrorBox} error=${error} />
      ${admin &&
      html`<button type="button" class="btn" disabled=${busy} onClick=${() => setHidden(!track.hidden)}>
        ${track.hidden ? 'Unhide track' : 'Hide track'}
      </button>`}
      <button type="button" class="btn danger" disabled=${busy} onClick=${remove}>Delete track</button>
    </div>
  </section>`;
}
