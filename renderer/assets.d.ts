// Style sheets are bundled by esbuild (scripts/build.js) into dist/renderer/app.css.
declare module '*.css';
