// A track: cover, waveform, play count and details; likes, boosts and
// comments (from here and other servers); the owner or an admin can edit
// and delete it, and an admin can hide it.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { Icon } from '../icons.js';
import { useFetch, usePaged, useTitle } from '../hooks.js';
import { Avatar, Cover, Empty, EditForm, ErrorBox, Status, StatusBadge } from '../components.js';
import { webURL } from '../federation.js';
import { formatBytes, formatDate, formatDuration, plural } from '../format.js';
import { player } from '../player.js';
import { navigate } from '../router.js';
import { canEditTrack, isAdmin, useSession } from '../session.js';
import { AddToPlaylist } from '../playlist-items.js';
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
          <${AddToPlaylist} track=${t} labelled />
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

    ${t.status === 'ready' && !t.hidden && html`<${TrackSocial} track=${t} />`}

    ${canEditTrack(s, t) &&
    html`<${TrackEditor} track=${t} admin=${isAdmin(s)} onChange=${(updated) => track.setData(updated)} />`}
  </div>`;
}

// MAX_COMMENT is the server's limit on a comment, in characters.
const MAX_COMMENT = 1000;
const COMMENTS_PAGE = 20;

// TrackSocial shows and takes likes, boosts and comments. Counts include
// those from other servers; a boost shares the track with your followers.
function TrackSocial({ track }) {
  const s = useSession();
  const social = useFetch(`/api/v1/tracks/${track.id}/social`);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const d = social.data || { likes: 0, boosts: 0, comments: 0, liked: false, boosted: false };

  const toggle = async (kind, on) => {
    setBusy(kind);
    setError(null);
    try {
      const path = `/api/v1/tracks/${track.id}/${kind}`;
      social.setData(await (on ? api.put(path) : api.delete(path)));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  const next = encodeURIComponent(location.pathname);
  return html`<section class="panel" aria-labelledby="social-title">
    <h2 id="social-title" class="visually-hidden">Likes, boosts and comments</h2>
    <div class="actions">
      ${s.user
        ? html`<button type="button" class=${d.liked ? 'btn primary' : 'btn'} data-testid="like" aria-pressed=${d.liked ? 'true' : 'false'}
              disabled=${busy !== null} onClick=${() => toggle('like', !d.liked)}>${d.liked ? 'Liked' : 'Like'}</button>
            <button type="button" class=${d.boosted ? 'btn primary' : 'btn'} data-testid="boost" aria-pressed=${d.boosted ? 'true' : 'false'}
              title="Boosting shares the track with your followers" disabled=${busy !== null}
              onClick=${() => toggle('boost', !d.boosted)}>${d.boosted ? 'Boosted' : 'Boost'}</button>`
        : html`<a class="btn" href=${`/app/login?next=${next}`}>Log in to like, boost or comment</a>`}
      <span class="sub" data-testid="social-counts">
        ${plural(d.likes, 'like')} · ${plural(d.boosts, 'boost')} · ${plural(d.comments, 'comment')}
      </span>
    </div>
    <${ErrorBox} error=${error || social.error} />
    <${Comments} track=${track} onCount=${(delta) => social.setData((x) => ({ ...(x || d), comments: Math.max(0, (x || d).comments + delta) }))} />
  </section>`;
}

// Comments lists a track's comments, newest first, and takes new ones.
// Their text is shown as text: comments from other servers were HTML and
// arrive stripped of it.
function Comments({ track, onCount }) {
  const s = useSession();
  const list = usePaged(`/api/v1/tracks/${track.id}/comments`, {}, COMMENTS_PAGE);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const post = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post(`/api/v1/tracks/${track.id}/comments`, { text });
      setText('');
      onCount(1);
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (c) => {
    if (!confirm('Delete this comment?')) return;
    setError(null);
    try {
      await api.delete(`/api/v1/comments/${c.id}`);
      list.setItems((items) => items.filter((it) => it.id !== c.id));
      onCount(-1);
    } catch (err) {
      setError(err);
    }
  };
  const mayDelete = (c) => !!s.user && (isAdmin(s) || c.author.user_id === s.user.id);

  return html`<div class="comments">
    <h3>Comments</h3>
    ${s.user &&
    html`<form class="form" data-testid="comment-form" onSubmit=${post}>
      <label>Your comment
        <textarea data-testid="comment-text" name="text" rows="3" required maxlength=${MAX_COMMENT} value=${text}
          onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      </label>
      <div class="actions">
        <button class="btn primary" data-testid="comment-submit" disabled=${busy || !text.trim()}>${busy ? 'Posting…' : 'Post comment'}</button>
        <span class="sub">${text.length} / ${MAX_COMMENT}</span>
      </div>
    </form>`}
    <${ErrorBox} error=${error || list.error} onRetry=${list.error ? list.reload : undefined} />
    ${!list.loading && !list.items.length && html`<${Empty}><p>No comments yet.</p></${Empty}>`}
    ${list.items.length > 0 &&
    html`<ol class="feed" data-testid="comments">
      ${list.items.map((c) => {
        const who = c.author.name || c.author.handle || c.author.actor || 'someone';
        return html`<li class="feed-item" key=${c.id} data-testid="comment">
          <${Avatar} url=${c.remote ? webURL(c.author.avatar_url)?.href : c.author.avatar_url} name=${who} />
          <div class="feed-body">
            <p class="feed-head">
              <strong>${who}</strong>
              ${c.author.handle && html` <span class="sub">@${c.author.handle}</span>`}
              ${c.remote && html` <span class="badge">elsewhere</span>`}
            </p>
            <p class="feed-text" data-testid="comment-body">${c.text}</p>
            <p class="sub">
              <time datetime=${c.created_at}>${formatDate(c.created_at)}</time>
              ${mayDelete(c) &&
              html` · <button type="button" class="btn small" data-testid="comment-delete" onClick=${() => remove(c)}>Delete</button>`}
            </p>
          </div>
        </li>`;
      })}
    </ol>`}
    ${list.hasMore &&
    html`<button type="button" class="btn" disabled=${list.loading} onClick=${list.loadMore}>More comments</button>`}
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
