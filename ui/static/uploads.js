// Uploads in progress. They live outside the upload page so that an artist
// can keep browsing (and listening) while an album uploads and transcodes.
import { api, uploadFile } from './api.js';
import { createStore } from './store.js';

const POLL_MS = 1500;

// Each item: { key, name, size, phase, sent (0–1), track, error }, where
// phase is queued → uploading → processing → ready | failed, or error when
// the upload itself was refused.
export const uploads = createStore({ items: [] });

const files = new Map(); // key → { file, artistId } while queued; File objects stay out of the store
const cancels = new Map(); // key → cancel() of the upload in flight
let nextKey = 1;
let running = false;

function update(key, patch) {
  uploads.set((s) => ({ items: s.items.map((it) => (it.key === key ? { ...it, ...patch } : it)) }));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function addUploads(fileList, artistId) {
  const added = Array.from(fileList, (file) => {
    const key = nextKey++;
    files.set(key, { file, artistId });
    return { key, name: file.name, size: file.size, phase: 'queued', sent: 0, track: null, error: null };
  });
  uploads.set((s) => ({ items: [...s.items, ...added] }));
  run();
}

export function cancelUpload(key) {
  if (files.delete(key)) update(key, { phase: 'error', error: 'Upload cancelled.' });
  cancels.get(key)?.(); // rejects the upload's promise; uploadOne records it
}

export function clearFinished() {
  uploads.set((s) => ({ items: s.items.filter((it) => !['ready', 'failed', 'error'].includes(it.phase)) }));
}

// run uploads queued files one at a time: parallel uploads of an album
// would only split the same bandwidth and finish everything later.
async function run() {
  if (running) return;
  running = true;
  for (;;) {
    const item = uploads.get().items.find((it) => it.phase === 'queued');
    if (!item) break;
    await uploadOne(item.key);
  }
  running = false;
}

async function uploadOne(key) {
  const { file, artistId } = files.get(key);
  files.delete(key);
  update(key, { phase: 'uploading' });
  const { done, cancel } = uploadFile(file, { artistId, onProgress: (sent) => update(key, { sent }) });
  cancels.set(key, cancel);
  try {
    const { track } = await done;
    update(key, { phase: 'processing', sent: 1, track });
    poll(key, track.id);
  } catch (err) {
    update(key, { phase: 'error', error: err.message });
  } finally {
    cancels.delete(key);
  }
}

// poll follows the server-side processing of an uploaded track until it is
// ready or has failed. Errors while polling are shown but do not stop it:
// a node restarting mid-transcode is not a failed upload.
async function poll(key, trackId) {
  for (;;) {
    await sleep(POLL_MS);
    if (!uploads.get().items.some((it) => it.key === key)) return; // cleared
    try {
      const track = await api.get(`/api/v1/tracks/${trackId}`);
      if (track.status === 'ready') return update(key, { phase: 'ready', track, error: null });
      if (track.status === 'failed') {
        return update(key, { phase: 'failed', track, error: track.error || track.job?.last_error || 'Processing failed.' });
      }
      update(key, { track, error: track.job?.last_error || null });
    } catch (err) {
      if (err.status === 404) return update(key, { phase: 'failed', error: err.message });
      update(key, { error: err.message });
    }
  }
}
