import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/** Generated once at start from the routes' own zod schemas. */
export function buildOpenApiDocument(registry: OpenAPIRegistry): OpenApiDocument {
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An admin API token (POST /api/v1/tokens, `token:create`, or CISTERN_ADMIN_TOKEN)',
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Cistern management API',
      version: '1',
      description: 'Remotes, repositories and their versions, distributions, tasks, schedules, content and settings of a Cistern OCI mirror.',
    },
    servers: [{ url: '/' }],
  });
}
