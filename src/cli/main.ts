#!/usr/bin/env node
console.log('xray-lp');
