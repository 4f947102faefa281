"""The staff console (`/console`) and the front door (`/`): server-rendered pages for people.

Plain HTML forms over the service layer and the queries only, as the API uses them; it works
with JavaScript disabled (a small script of our own only enhances it); no CDN, no build chain.
"""
