/**
 * The house plan (../shared/ARCHITECTURE.md) as rules: imports point down the picture and never back up.
 * test/unit/lint/depcruise-rules.test.ts runs this config over fixtures that break each rule and expects failures.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make layers meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'electron-only-in-shell',
      severity: 'error',
      comment: "Only electron/ may import 'electron'.",
      from: { pathNot: '^electron/' },
      to: { path: '^electron$|node_modules/electron/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'electron-types-only-in-shell',
      severity: 'error',
      comment: "Only electron/ may import 'electron', even for types.",
      from: { pathNot: '^electron/' },
      to: { path: '^electron$|node_modules/electron/' },
    },
    {
      name: 'renderer-only-types-from-api',
      severity: 'error',
      comment: 'The renderer imports only types from main/api, and nothing else from main/.',
      from: { path: '^renderer/' },
      to: { path: '^(main|virtual-device|electron)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderer-types-only-api',
      severity: 'error',
      comment: 'Renderer type imports may come only from main/api.',
      from: { path: '^renderer/' },
      to: { path: '^(main/(?!api/)|virtual-device/|electron/)' },
    },
    {
      name: 'renderer-no-node',
      severity: 'error',
      comment: 'The renderer never touches Node.',
      from: { path: '^renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'main-not-virtual-device',
      severity: 'error',
      comment: 'main/ never imports virtual-device/ except the composition roots (main/cli, main/station).',
      from: { path: '^main/', pathNot: '^main/(cli|station)/' },
      to: { path: '^virtual-device/' },
    },
    {
      name: 'virtual-device-only-wire-codecs',
      severity: 'error',
      comment:
        'virtual-device/ imports only shared wire codecs (main/protocol) and host-neutral helpers (main/common).',
      from: { path: '^virtual-device/', pathNot: '^virtual-device/ota/' },
      to: { path: '^main/', pathNot: '^main/(protocol|common)/' },
    },
    {
      name: 'virtual-device-ota-verifier-only',
      severity: 'error',
      comment:
        "The OTA agent (virtual-device/ota/) verifies packages and repository metadata with the host's own code (main/package, main/repo), and nothing else above the wire codecs.",
      from: { path: '^virtual-device/ota/' },
      to: { path: '^main/', pathNot: '^main/(protocol|common|package|repo)/' },
    },
    {
      name: 'lower-layers-not-upward',
      severity: 'error',
      comment: 'transport < protocol < devices/package < flash < api < station/cli: never import upward.',
      from: { path: '^main/(transport|protocol|common)/' },
      to: { path: '^main/(devices|package|flash|api|station|cli)/' },
    },
    {
      name: 'transport-below-protocol',
      severity: 'error',
      from: { path: '^main/transport/' },
      to: { path: '^main/protocol/' },
    },
    {
      name: 'engine-not-api',
      severity: 'error',
      comment: 'The engine, packages and devices know nothing of the API or composition roots.',
      from: { path: '^main/(flash|package|devices|fleet)/' },
      to: { path: '^main/(api|station|cli)/' },
    },
    {
      name: 'engine-not-fleet',
      severity: 'error',
      comment:
        'The fleet (PostgreSQL outbox, MQTT live bus) sits beside the engine: it reads reports and events, and the engine reaches it only through ports the composition roots fill (a single station needs none of it).',
      from: { path: '^main/(transport|protocol|common|devices|package|flash)/' },
      to: { path: '^main/fleet/' },
    },
    {
      name: 'api-not-roots',
      severity: 'error',
      from: { path: '^main/api/' },
      to: { path: '^main/(station|cli)/' },
    },
    {
      name: 'engine-no-native-backends',
      severity: 'error',
      comment: 'main/flash knows a Transport and a protocol client, never usb or serialport.',
      from: { path: '^main/(flash|protocol|package)/' },
      to: { path: 'node_modules/(usb|serialport|@serialport)/' },
    },
    {
      name: 'product-no-test-fakes',
      severity: 'error',
      comment:
        "Test doubles (main/transport/testing.ts and what it exports) are for tests and harnesses, never the product's code.",
      from: { path: '^(main|electron|renderer|virtual-device)/', pathNot: '^main/transport/testing\\.ts$' },
      to: { path: '^main/transport/(testing|fake-webusb)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Not node_modules here: excluding it would drop the edges to 'electron', 'usb' and 'serialport' that the
    // rules above must see (doNotFollow already keeps the cruise out of packages); and only the top dist/, since
    // packages keep their own code in dist/ too (usb/dist/index.js).
    exclude: { path: '^dist/|^test/fixtures/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
