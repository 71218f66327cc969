// The mirror's sending side and a standby's receiving end over mutual TLS on loopback, for
// test/bench/mirror.js and mirror-appends.js (bundled with esbuild, so that the benchmarks run the
// agent's own code).
export { FolderMirror } from '../../agent/mirror/folder-mirror.js';
export { mirrorPeer, mirrorPeerEnd, peerTargetTo } from '../helpers/mirror-peer.js';
export { shimPki } from '../helpers/shim-rig.js';
