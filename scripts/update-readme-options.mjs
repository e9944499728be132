// Rewrites the options table in README.md from the option definitions (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceOptionsTable } from '../dist/config/optionsTable.js';

const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', replaceOptionsTable(readme));
console.log('README.md options table updated');
