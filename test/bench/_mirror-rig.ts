// The mirror's sending side and a standby's receiving end over mutual TLS on loopback, for
// test/bench/mirror.js (bundled with esbuild, so that the benchmark runs the agent's own code).
export { FolderMirror } from '../../agent/mirror/folder-mirror.js';
export { mirrorPeer } from '../helpers/mirror-peer.js';
