// ts-jest wrapper for the @nestjs/swagger CLI plugin, so specs see the same OpenAPI schema as `nest build`.
const plugin = require('@nestjs/swagger/plugin');
const options = require('../../nest-cli.json').compilerOptions.plugins[0].options;

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 1;
module.exports.factory = (compilerInstance) =>
  plugin.before(options, compilerInstance.program ?? compilerInstance.tsCompiler?.program);
