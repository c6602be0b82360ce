// tap's node argument: loads tsx only in a test process whose entry is TypeScript, such as
// `npx tap test/some.test.ts`. `npm test` runs the JavaScript that test/compile.mjs wrote to
// `.test-js/` and needs no loader.
if (process.argv[1]?.endsWith('.ts')) await import('tsx');
