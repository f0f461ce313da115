"""`flask users token EMAIL`: create an API token from the terminal."""
import click


@click.command("token")
@click.argument("email")
def token_command(email):
    """Create an API token for the account with this e-mail and print it once."""
    raise click.ClickException("Not available yet.")
