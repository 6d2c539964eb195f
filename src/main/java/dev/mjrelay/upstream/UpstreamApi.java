package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * The upstream MJ Proxy API's submits, raw: bodies come back as text so that {@link UpstreamClient}
 * decides what every answer means, including the malformed ones. (Fetches take a leaner path there.)
 */
@RegisterRestClient(configKey = "upstream")
@Path("/mj")
interface UpstreamApi {

    @POST
    @Path("/submit/{kind}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    Uni<RestResponse<String>> submit(@HeaderParam("Authorization") String authorization,
                                     @PathParam("kind") String kind, ObjectNode body);
}
